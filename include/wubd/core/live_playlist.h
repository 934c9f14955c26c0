#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "wubd/core/best_segments.h"
#include "wubd/core/range_limits.h"

// A media playlist without ENDLIST is live: players poll it and take each new copy as
// the old one with lines appended at the end (RFC 8216 6.2.1; a player numbers
// segments by position, so one inserted behind what it has seen shifts every later
// one, and players break: wubloader #607). Segments often arrive out of order at the
// live edge (a racer, a slow download, a backfill from a peer), so two rules keep the
// past of a live playlist fixed:
// - the settle window: while a variant is still arriving (its newest segment ended
//   less than `settle` ago), a hole or an incomplete segment that begins within
//   `settle` of the newest segment's start ends the playlist there, and what follows
//   it waits, so a late segment that fills the hole in time is simply appended;
// - the live history: a hole a live playlist has shown stays a hole in every later
//   live playlist of that variant, even once a segment arrives for it (closed
//   ranges, cuts and peers get the segment; only the live view leaves it out), and
//   the settle window never takes back what one has shown.
namespace wubd::core {

// Whether `segments` (from best_segments) make a live playlist: no ENDLIST, because
// the range's end has not been recorded (a trailing hole).
bool is_live(const std::vector<SegmentOrHole>& segments);

// What the live playlists of one variant have shown: the holes between segments (as
// sorted, disjoint ranges, at most `max_holes`: the oldest are forgotten first, as a
// player that far behind the edge has reloaded long ago), and the end of the newest
// segment shown.
class LiveHistory {
 public:
  explicit LiveHistory(std::size_t max_holes = 4096) : max_holes_(max_holes) {}

  // Remembers what `shown` (a live playlist being served) shows.
  void remember(const std::vector<SegmentOrHole>& shown);
  // Sorted, disjoint; what best_segments must leave out for a live playlist.
  const std::vector<TimeRange>& held_holes() const { return held_holes_; }
  Micros shown_until() const { return shown_until_; }

 private:
  void hold(TimeRange hole);

  std::size_t max_holes_;
  std::vector<TimeRange> held_holes_;
  Micros shown_until_ = 0;
};

// Ends a live playlist at its first hole or incomplete segment that begins within
// `settle` of the newest segment's start (a hole begins where the segment before it
// ends) and not before `history.shown_until()`, if the newest segment ended less
// than `settle` before `now` (wall clock); leaves a trailing hole (so no ENDLIST).
// True when it ended the playlist early: what it shows then depends on the time, not
// only on the segments.
bool settle_live_edge(std::vector<SegmentOrHole>& segments, Micros settle, Micros now, const LiveHistory& history);

// Chooses a range's best segments, leaving out those in `held_holes`
// (best_segments over the store's listings).
using SelectSegments = std::function<std::vector<SegmentOrHole>(const std::vector<TimeRange>& held_holes)>;

// The segments a media playlist lists: `select`'s, and for a live playlist the
// variant's held holes left out, the settle window applied, and what it now shows
// remembered in `history`. `settling` (if given) is set when the settle window ended
// the playlist early: the same segments will read differently once it has passed, so
// such a playlist must not be cached.
std::vector<SegmentOrHole> playlist_segments(const SelectSegments& select, LiveHistory& history, Micros settle,
                                             Micros now, bool* settling = nullptr);

// True when a segment [start, start + duration) lies inside one of `held` (sorted,
// disjoint), give or take kDurationTolerance at either end.
bool lies_in_held_hole(const std::vector<TimeRange>& held, const SegmentNameView& segment);

}  // namespace wubd::core
