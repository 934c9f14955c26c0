#include "wubd/core/live_playlist.h"

#include <algorithm>

namespace wubd::core {

bool is_live(const std::vector<SegmentOrHole>& segments) { return segments.empty() || segments.back() == nullptr; }

bool settle_live_edge(std::vector<SegmentOrHole>& segments, Micros settle, Micros now, const LiveHistory& history) {
  if (!is_live(segments) || settle <= 0) return false;
  auto newest = std::find_if(segments.rbegin(), segments.rend(), [](const SegmentOrHole& s) { return s != nullptr; });
  if (newest == segments.rend()) return false;
  // Nothing more is arriving soon (an archive, a stream that ended): nothing to wait for.
  if (now - (*newest)->name.end() >= settle) return false;
  Micros settled_before = (*newest)->name.start - settle;
  // A hole begins where the segment before it ends, and is judged there: a stream
  // that starts again after a long break is shown at once, a segment missing among
  // its neighbours waits. An incomplete segment waits too (a complete copy may still
  // replace it).
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    const SegmentOrHole& s = segments[i];
    Micros begins = 0;
    if (s == nullptr) {
      if (i == 0 || segments[i - 1] == nullptr) continue;  // a leading hole is not shown
      begins = segments[i - 1]->name.end();
    } else if (s->name.type != SegmentType::Full) {
      begins = s->name.start;
    } else {
      continue;
    }
    if (begins > settled_before && begins >= history.shown_until()) {
      segments.resize(i);
      segments.push_back(nullptr);
      return true;
    }
  }
  return false;
}

void LiveHistory::remember(const std::vector<SegmentOrHole>& shown) {
  for (std::size_t i = 1; i + 1 < shown.size(); ++i) {
    if (shown[i] != nullptr || shown[i - 1] == nullptr || shown[i + 1] == nullptr) continue;
    Micros start = shown[i - 1]->name.end();
    Micros end = shown[i + 1]->name.start;
    if (end > start) hold({start, end});
  }
  for (auto it = shown.rbegin(); it != shown.rend(); ++it) {
    if (*it == nullptr) continue;
    shown_until_ = std::max(shown_until_, (*it)->name.end());
    break;
  }
}

void LiveHistory::hold(TimeRange hole) {
  auto at = std::lower_bound(held_holes_.begin(), held_holes_.end(), hole.start,
                             [](const TimeRange& r, Micros start) { return r.end < start; });
  // `at` is the first range that ends at or after the hole's start: merge every range
  // the hole touches into one.
  auto last = at;
  while (last != held_holes_.end() && last->start <= hole.end) {
    hole.start = std::min(hole.start, last->start);
    hole.end = std::max(hole.end, last->end);
    ++last;
  }
  at = held_holes_.erase(at, last);
  held_holes_.insert(at, hole);
  if (held_holes_.size() > max_holes_) held_holes_.erase(held_holes_.begin());
}

std::vector<SegmentOrHole> playlist_segments(const SelectSegments& select, LiveHistory& history, Micros settle,
                                             Micros now, bool* settling) {
  if (settling) *settling = false;
  std::vector<SegmentOrHole> segments = select({});
  if (!is_live(segments)) return segments;  // complete: every segment, as it is now
  const std::vector<TimeRange>& held = history.held_holes();
  bool fills_held_hole = std::any_of(segments.begin(), segments.end(), [&](const SegmentOrHole& s) {
    return s != nullptr && lies_in_held_hole(held, s->name);
  });
  // Leaving segments out only adds holes, so the playlist stays live. Chosen again
  // rather than nulled in place: a held-out segment may have hidden an overlapping one.
  if (fills_held_hole) segments = select(held);
  bool ended_early = settle_live_edge(segments, settle, now, history);
  if (settling) *settling = ended_early;
  history.remember(segments);
  return segments;
}

bool lies_in_held_hole(const std::vector<TimeRange>& held, const SegmentNameView& segment) {
  if (held.empty()) return false;
  // The last range starting at or before the segment's start (with the tolerance).
  auto after = std::upper_bound(held.begin(), held.end(), segment.start + kDurationTolerance,
                                [](Micros start, const TimeRange& r) { return start < r.start; });
  if (after == held.begin()) return false;
  const TimeRange& hole = *(after - 1);
  return segment.end() <= hole.end + kDurationTolerance;
}

}  // namespace wubd::core
