#include "wubd/core/best_segments.h"

#include <algorithm>
#include <tuple>

namespace wubd::core {
namespace {

// Among complete copies (full or suspect) of one start time: the longest, because the
// same segment is sometimes listed with a shorter duration at a stream's end; then the
// highest hash, only so that every node makes the same choice.
bool complete_less(const StoredSegment* a, const StoredSegment* b) {
  return std::tie(a->name.duration, a->name.hash) < std::tie(b->name.duration, b->name.hash);
}

bool partial_less(const StoredSegment* a, const StoredSegment* b) {
  return std::tie(a->size_bytes, a->name.duration, a->name.hash) <
         std::tie(b->size_bytes, b->name.duration, b->name.hash);
}

const StoredSegment* choose(std::vector<const StoredSegment*>::const_iterator first,
                            std::vector<const StoredSegment*>::const_iterator last) {
  const StoredSegment* best_full = nullptr;
  const StoredSegment* best_suspect = nullptr;
  const StoredSegment* best_partial = nullptr;
  for (auto it = first; it != last; ++it) {
    const StoredSegment* s = *it;
    switch (s->name.type) {
      case SegmentType::Full:
        if (!best_full || complete_less(best_full, s)) best_full = s;
        break;
      case SegmentType::Suspect:
        if (!best_suspect || complete_less(best_suspect, s)) best_suspect = s;
        break;
      case SegmentType::Partial:
        if (!best_partial || partial_less(best_partial, s)) best_partial = s;
        break;
      case SegmentType::Temp:
        // Still being written, and may be gone by the time anyone reads it.
        break;
    }
  }
  if (best_full) return best_full;
  if (best_suspect) return best_suspect;
  return best_partial;
}

bool is_incomplete(const StoredSegment* s) {
  return s->name.type == SegmentType::Partial || s->name.type == SegmentType::Suspect;
}

}  // namespace

std::vector<const StoredSegment*> best_by_start(const std::vector<StoredSegment>& listing) {
  std::vector<const StoredSegment*> sorted;
  sorted.reserve(listing.size());
  for (const StoredSegment& s : listing) sorted.push_back(&s);
  std::stable_sort(sorted.begin(), sorted.end(), [](const StoredSegment* a, const StoredSegment* b) {
    return a->name.start < b->name.start;
  });

  std::vector<const StoredSegment*> best;
  best.reserve(sorted.size());
  for (auto group = sorted.begin(); group != sorted.end();) {
    auto group_end = std::find_if(group, sorted.end(), [&](const StoredSegment* s) {
      return s->name.start != (*group)->name.start;
    });
    if (const StoredSegment* chosen = choose(group, group_end)) best.push_back(chosen);
    group = group_end;
  }
  return best;
}

std::vector<Micros> hours_for_range(Micros start, Micros end) {
  std::vector<Micros> hours;
  for (Micros hour = floor_hour(start) - kMicrosPerHour; hour <= floor_hour(end);
       hour += kMicrosPerHour) {
    hours.push_back(hour);
  }
  return hours;
}

std::vector<SegmentOrHole> best_segments(const BestByStartLookup& lookup, Micros start, Micros end) {
  std::vector<SegmentOrHole> result;
  bool reached_end = false;
  for (Micros hour : hours_for_range(start, end)) {
    for (const StoredSegment* segment : lookup(hour)) {
      const SegmentName& s = segment->name;
      if (result.empty()) {
        if (s.start <= start && start < s.end()) {
          result.push_back(segment);
        } else if (start < s.start && s.start < end) {
          // Nothing covered the start of the range.
          result.push_back(nullptr);
          result.push_back(segment);
        } else {
          // Ends before the range or starts after it: not part of it.
          continue;
        }
      } else {
        const StoredSegment* previous = result.back();
        Micros gap = s.start - previous->name.end();
        if (gap < -kDurationTolerance) {
          // Overlaps the previous segment; can happen when a stream drops and
          // restarts quickly. Keep the earlier one.
          continue;
        }
        if (gap > kDurationTolerance || is_incomplete(previous)) result.push_back(nullptr);
        result.push_back(segment);
      }
      if (end <= s.end()) {
        reached_end = true;
        break;
      }
    }
    if (reached_end) break;
  }
  if (!reached_end || result.empty()) {
    result.push_back(nullptr);
  } else if (result.back()->name.type == SegmentType::Partial) {
    result.push_back(nullptr);
  }
  return result;
}

std::optional<std::pair<Micros, Micros>> hours_span(const std::vector<std::string>& hours) {
  if (hours.empty()) return std::nullopt;
  auto first = parse_hour(hours.front());
  auto last = parse_hour(hours.back());
  if (!first || !last) return std::nullopt;
  return std::make_pair(*first, *last + kMicrosPerHour);
}

}  // namespace wubd::core
