#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "wubd/core/segment_name.h"
#include "wubd/core/time.h"

// "Best segments": which stored files make up a time range, with explicit holes.
// This is wubloader's get_best_segments, with DESIGN.md §1's tolerances.
namespace wubd::core {

// One file found in an hour directory.
struct StoredSegment {
  SegmentName name;
  std::string hour;       // the hour directory name, `2026-11-21T04`
  std::string file_name;  // the file name within it
  // Size in bytes; needed only to choose between partial copies, so listings may
  // leave it at -1 for other types.
  std::int64_t size_bytes = -1;
  // This segment's media playlist lines, rendered once by render_playlist_lines()
  // when its hour is listed, so that a day-long playlist is a run of copies rather
  // than 43,200 rounds of formatting. Empty until rendered; writers fall back to
  // rendering on the fly.
  std::string playlist_tags;  // "#EXT-X-PROGRAM-DATE-TIME:…\n#EXTINF:…,\n"
  std::string url_tail;       // percent-encoded "hour/file"
};

// A segment or a hole: nullptr marks a hole (wubloader's None).
using SegmentOrHole = const StoredSegment*;

// The best copy for each distinct start time in one hour's listing, ordered by start:
// `full`, else `suspect` (the longest, then highest hash, as for `full`), else the
// largest `partial`. `temp` files are never chosen. Pointers point into `listing`.
std::vector<const StoredSegment*> best_by_start(const std::vector<StoredSegment>& listing);

// The best copies of one hour (as best_by_start returns them) for the hour starting
// at the given time; an empty list for an hour with no directory.
using BestByStartLookup = std::function<const std::vector<const StoredSegment*>&(Micros hour)>;

// The starts of the hours whose directories may hold segments of [start, end): from
// the hour before start's (a segment may start there and reach into the range) to
// end's hour, inclusive.
std::vector<Micros> hours_for_range(Micros start, Micros end);

// The time span sorted hour directory names cover: [first hour, end of last hour);
// nullopt for none. Names must be valid hours (the store lists only those).
std::optional<std::pair<Micros, Micros>> hours_span(const std::vector<std::string>& hours);

// The best non-overlapping sequence of segments covering [start, end), with holes.
// Requires start < end. Rules, in order:
// - the first segment may start before `start` if it covers it; if none covers it,
//   the result begins with a hole;
// - a segment overlapping the previous one by more than kDurationTolerance is skipped;
// - a gap of more than kDurationTolerance, or a previous segment that is partial or
//   suspect, puts a hole before the segment;
// - the sequence stops at the first segment whose end is at or after `end`;
// - a trailing hole follows if the last segment is partial, ends before `end`, or
//   nothing was found at all.
std::vector<SegmentOrHole> best_segments(const BestByStartLookup& lookup, Micros start, Micros end);

}  // namespace wubd::core
