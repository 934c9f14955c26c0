#include "wubd/core/best_segments.h"

#include <algorithm>
#include <iterator>
#include <tuple>

#include "wubd/core/live_playlist.h"

namespace wubd::core {
namespace {

// True when `b` is a better full copy than `a`. The longest first, because the same
// segment is sometimes listed with a shorter duration at a stream's end; then the
// largest file (the most data); then the highest hash, only so that every node makes
// the same choice; then the first name, for copies that differ only in spelling.
bool full_worse(const StoredSegment* a, const StoredSegment* b) {
  if (a->name.duration != b->name.duration) return a->name.duration < b->name.duration;
  if (a->size_bytes != b->size_bytes) return a->size_bytes < b->size_bytes;
  if (a->name.hash != b->name.hash) return hash_less(a->name.hash, b->name.hash);
  return b->file_name < a->file_name;
}

// True when `b` is a better incomplete copy than `a`: suspect over partial, then the
// largest file, then the first name.
bool incomplete_worse(const StoredSegment* a, const StoredSegment* b) {
  bool a_suspect = a->name.type == SegmentType::Suspect;
  bool b_suspect = b->name.type == SegmentType::Suspect;
  if (a_suspect != b_suspect) return b_suspect;
  if (a->size_bytes != b->size_bytes) return a->size_bytes < b->size_bytes;
  return b->file_name < a->file_name;
}

const StoredSegment* choose(std::vector<const StoredSegment*>::const_iterator first,
                            std::vector<const StoredSegment*>::const_iterator last) {
  const StoredSegment* best_full = nullptr;
  const StoredSegment* best_incomplete = nullptr;
  for (auto it = first; it != last; ++it) {
    const StoredSegment* s = *it;
    switch (s->name.type) {
      case SegmentType::Full:
        if (!best_full || full_worse(best_full, s)) best_full = s;
        break;
      case SegmentType::Suspect:
      case SegmentType::Partial:
        if (!best_incomplete || incomplete_worse(best_incomplete, s)) best_incomplete = s;
        break;
      case SegmentType::Temp:
        // Still being written, and may be gone by the time anyone reads it.
        break;
    }
  }
  return best_full ? best_full : best_incomplete;
}

bool is_incomplete(const StoredSegment* s) {
  return s->name.type == SegmentType::Partial || s->name.type == SegmentType::Suspect;
}

std::vector<const StoredSegment*> sorted_by_start(const std::vector<StoredSegment>& listing) {
  std::vector<const StoredSegment*> sorted;
  sorted.reserve(listing.size());
  for (const StoredSegment& s : listing) sorted.push_back(&s);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const StoredSegment* a, const StoredSegment* b) { return a->name.start < b->name.start; });
  return sorted;
}

}  // namespace

bool hash_less(std::string_view a, std::string_view b) {
  auto da = decode_hash(a);
  auto db = decode_hash(b);
  if (da && db) return *da < *db;        // bytes compare as unsigned, like Python's bytes
  if (bool(da) != bool(db)) return !da;  // an undecodable hash sorts below every real one
  return a < b;
}

std::vector<std::string_view> listed_names(const HourListing& listing) {
  std::vector<std::string_view> segment_names;
  segment_names.reserve(listing.segments.size());
  for (const StoredSegment& s : listing.segments) {
    if (s.name.type != SegmentType::Temp) segment_names.emplace_back(s.file_name);
  }
  // Listings are made from a sorted directory read, so this is usually sorted already,
  // and the chat batches always are: a check and a merge, not a sort of 1,800 names.
  if (!std::is_sorted(segment_names.begin(), segment_names.end()))
    std::sort(segment_names.begin(), segment_names.end());
  std::vector<std::string_view> names;
  names.reserve(segment_names.size() + listing.chat_batches.size());
  std::merge(segment_names.begin(), segment_names.end(), listing.chat_batches.begin(), listing.chat_batches.end(),
             std::back_inserter(names));
  return names;
}

std::vector<const StoredSegment*> best_by_start(const std::vector<StoredSegment>& listing) {
  std::vector<const StoredSegment*> sorted = sorted_by_start(listing);
  std::vector<const StoredSegment*> best;
  best.reserve(sorted.size());
  for (auto group = sorted.begin(); group != sorted.end();) {
    auto group_end = std::find_if(group, sorted.end(),
                                  [&](const StoredSegment* s) { return s->name.start != (*group)->name.start; });
    if (const StoredSegment* chosen = choose(group, group_end)) best.push_back(chosen);
    group = group_end;
  }
  return best;
}

std::vector<bool> needs_size(const std::vector<StoredSegment>& listing) {
  std::vector<bool> needed(listing.size(), false);
  std::vector<const StoredSegment*> sorted = sorted_by_start(listing);
  for (auto group = sorted.begin(); group != sorted.end();) {
    auto group_end = std::find_if(group, sorted.end(),
                                  [&](const StoredSegment* s) { return s->name.start != (*group)->name.start; });
    auto fulls =
        std::count_if(group, group_end, [](const StoredSegment* s) { return s->name.type == SegmentType::Full; });
    for (auto it = group; it != group_end; ++it) {
      SegmentType type = (*it)->name.type;
      bool needed_here =
          type == SegmentType::Suspect || type == SegmentType::Partial || (type == SegmentType::Full && fulls > 1);
      if (needed_here) needed[std::size_t(*it - listing.data())] = true;
    }
    group = group_end;
  }
  return needed;
}

std::vector<Micros> hours_to_scan(const std::vector<Micros>& hours, Micros start, Micros end) {
  auto first = std::lower_bound(hours.begin(), hours.end(), floor_hour(start) - kMicrosPerHour);
  auto last = std::upper_bound(first, hours.end(), floor_hour(end));
  return std::vector<Micros>(first, last);
}

std::vector<SegmentOrHole> best_segments(const HourLookup& lookup, const std::vector<Micros>& hours, Micros start,
                                         Micros end, const std::vector<TimeRange>& held_holes) {
  std::vector<SegmentOrHole> result;
  bool reached_end = false;
  for (Micros hour : hours_to_scan(hours, start, end)) {
    std::shared_ptr<const HourListing> listing = lookup(hour);
    if (!listing) continue;
    for (const StoredSegment* segment : listing->best) {
      const SegmentNameView& s = segment->name;
      if (lies_in_held_hole(held_holes, s)) continue;
      if (result.empty()) {
        if (s.start <= start && start < s.end()) {
          result.push_back(segment_ref(listing, segment));
        } else if (start < s.start && s.start < end) {
          // Nothing covered the start of the range.
          result.push_back(nullptr);
          result.push_back(segment_ref(listing, segment));
        } else {
          // Ends before the range or starts after it: not part of it.
          continue;
        }
      } else {
        const StoredSegment* previous = result.back().get();
        Micros gap = s.start - previous->name.end();
        if (gap < -kDurationTolerance) {
          // Overlaps the previous segment; can happen when a stream drops and
          // restarts quickly. Keep the earlier one.
          continue;
        }
        if (gap > kDurationTolerance || is_incomplete(previous)) result.push_back(nullptr);
        result.push_back(segment_ref(listing, segment));
      }
      if (end <= s.end()) {
        reached_end = true;
        break;
      }
    }
    if (reached_end) break;
  }
  // A trailing hole: the range is not complete, or ends in a partial segment.
  if (!reached_end || result.empty() || result.back()->name.type == SegmentType::Partial) result.push_back(nullptr);
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
