#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wubd/core/range_limits.h"
#include "wubd/core/segment_name.h"
#include "wubd/core/time.h"

// "Best segments": which stored files make up a time range, with explicit holes.
// This is wubloader's get_best_segments, with its tolerances (kDurationTolerance).
namespace wubd::core {

// One file found in an hour directory. Its strings are views into the listing it
// belongs to (the hour's names are kept once, as one text): hold a SegmentRef, never
// a copy of the struct, beyond the listing's life.
struct StoredSegment {
  SegmentNameView name;
  std::string_view hour;       // the hour directory name, `2026-11-21T04`
  std::string_view file_name;  // the file name within it
  // Size in bytes; needed only to choose between partial copies, so listings may
  // leave it at -1 for other types.
  std::int64_t size_bytes = -1;
};

// One hour directory as read: every segment in it and the best copy of each start
// time. Immutable once built, and shared: a SegmentRef into it keeps it alive, so a
// selection stays valid however the store's cache moves on. About 100 bytes a
// segment besides the names' text, which the store's index shares.
struct HourListing {
  HourListing() = default;
  // Everything in it points into the listing itself: never copied or moved, only shared.
  HourListing(const HourListing&) = delete;
  HourListing& operator=(const HourListing&) = delete;

  // The directory's regular, non-hidden file names, sorted, each followed by '\n'
  // (core/hour_files.h: join_names); everything below views them.
  std::shared_ptr<const std::string> names_text;
  std::string hour;  // the hour directory name the segments view
  // Every parseable, non-hidden segment file without a tombstone, `temp` ones
  // included, in name order.
  std::vector<StoredSegment> segments;
  // Chat batches (`MM:SS-HASH.json`) without a tombstone, sorted.
  std::vector<std::string_view> chat_batches;
  // Tombstones (`STEM.tombstone`, core/hour_files.h), sorted: listed on request, and
  // what the backfiller must not copy back.
  std::vector<std::string_view> tombstones;
  // best_by_start(segments), pointing into `segments`.
  std::vector<const StoredSegment*> best;
  // Unique to this reading of the directory: a rescan gets a new one.
  std::uint64_t version = 0;
};

// The names `/files/.../<hour>` lists: the listing's segments without `temp` files,
// and its chat batches, sorted. Tombstoned files are in neither.
std::vector<std::string_view> listed_names(const HourListing& listing);

// A segment of a listing that keeps the listing alive (shared_ptr's aliasing
// constructor): safe to hold across later store calls, rescans and evictions.
using SegmentRef = std::shared_ptr<const StoredSegment>;

// A segment or a hole: a null SegmentRef marks a hole (wubloader's None).
using SegmentOrHole = SegmentRef;

// `segment`, which lies in `listing`, as a SegmentRef that keeps `listing` alive.
inline SegmentRef segment_ref(const std::shared_ptr<const HourListing>& listing, const StoredSegment* segment) {
  return SegmentRef(listing, segment);
}

// The best copy for each distinct start time in one hour's listing, ordered by start,
// as wubloader chooses it so that every node of a mixed cluster serves the same bytes:
// - among `full` copies: the longest duration, then the largest file, then the highest
//   hash compared as the decoded sha256 bytes (not as text), then the first name;
// - without a `full` one: a `suspect` over a `partial`, then the largest file, then
//   the first name (Python's max() keeps the first of equals in name order).
// `temp` files are never chosen. Sizes are read from `size_bytes`: a listing must
// fill it for every non-full copy and for full copies sharing a start time
// (needs_size() says which). Pointers point into `listing`.
std::vector<const StoredSegment*> best_by_start(const std::vector<StoredSegment>& listing);

// Whether best_by_start needs the size of listing[i]: a suspect or partial copy, or
// a full copy whose start time has another full copy. `listing` in any order.
std::vector<bool> needs_size(const std::vector<StoredSegment>& listing);

// True when hash `a` is lower than hash `b` as decoded bytes; wubloader compares
// decoded hashes, and text order differs from byte order ('0' < 'A' in text, but
// decodes higher). A hash that does not decode sorts below every one that does.
bool hash_less(std::string_view a, std::string_view b);

// The listing of the hour starting at the given time; null (or an empty listing) for
// an hour with no directory.
using HourLookup = std::function<std::shared_ptr<const HourListing>(Micros hour)>;

// The hours among `hours` (the starts of the hour directories that exist, sorted)
// whose directories may hold segments of [start, end): from the hour before start's
// (a segment may start there and reach into the range) to end's hour, inclusive.
// Costs O(log n + k) whatever the range spans, so a range of centuries costs what
// the directories inside it cost.
std::vector<Micros> hours_to_scan(const std::vector<Micros>& hours, Micros start, Micros end);

// The time span sorted hour directory names cover: [first hour, end of last hour);
// nullopt for none. Names must be valid hours (the store lists only those).
std::optional<std::pair<Micros, Micros>> hours_span(const std::vector<std::string>& hours);

// The best non-overlapping sequence of segments covering [start, end), with holes,
// looking only at `hours` (the existing hour directories, as hours_to_scan picks
// them). Requires start < end. Rules, in order:
// - the first segment may start before `start` if it covers it; if none covers it,
//   the result begins with a hole;
// - a segment overlapping the previous one by more than kDurationTolerance is skipped;
// - a gap of more than kDurationTolerance, or a previous segment that is partial or
//   suspect, puts a hole before the segment;
// - the sequence stops at the first segment whose end is at or after `end`;
// - a trailing hole follows if the last segment is partial, ends before `end`, or
//   nothing was found at all.
// Segments lying in one of `held_holes` (sorted, disjoint: a live playlist's held
// holes, core/live_playlist.h) are treated as absent.
std::vector<SegmentOrHole> best_segments(const HourLookup& lookup, const std::vector<Micros>& hours, Micros start,
                                         Micros end, const std::vector<TimeRange>& held_holes = {});

}  // namespace wubd::core
