#include "wubd/core/coverage.h"

#include <algorithm>

namespace wubd::core {
namespace {

// The part of [start, end) inside [from, to).
Micros overlap(Micros start, Micros end, Micros from, Micros to) {
  return std::max<Micros>(0, std::min(end, to) - std::max(start, from));
}

void add(TypeFigures& figures, Micros duration) {
  ++figures.count;
  figures.duration += duration;
}

}  // namespace

Coverage compute_coverage(const HourLookup& lookup, const std::vector<Micros>& hours, const TimeRange& range) {
  Coverage coverage;
  coverage.range = range;
  if (range.end <= range.start) return coverage;
  std::vector<SegmentOrHole> best =
      best_segments(lookup, hours_to_scan(hours, range.start, range.end), range.start, range.end);

  // The segments chosen, sorted for lookup: a tree of a month's pointers was most of
  // the time a warm request took.
  std::vector<const StoredSegment*> chosen;
  chosen.reserve(best.size());
  CoverageRun run;
  bool in_run = false;
  Micros covered_to = range.start;  // where the last run ended
  for (const SegmentOrHole& segment : best) {
    if (!segment) continue;
    const SegmentNameView& name = segment->name;
    Micros start = std::max(name.start, range.start);
    Micros end = std::min(name.end(), range.end);
    if (end <= start) continue;
    chosen.push_back(segment.get());
    if (in_run && start <= run.end + kDurationTolerance) {
      run.end = std::max(run.end, end);
      ++run.segments;
    } else {
      if (in_run) coverage.runs.push_back(run);
      if (start > covered_to + kDurationTolerance) coverage.holes.push_back({covered_to, start});
      run = {start, end, 1};
      in_run = true;
    }
    covered_to = run.end;
    if (name.type == SegmentType::Partial || name.type == SegmentType::Suspect) {
      IncompleteSpan* last = coverage.incomplete.empty() ? nullptr : &coverage.incomplete.back();
      if (last && last->type == name.type && start <= last->end + kDurationTolerance) {
        last->end = std::max(last->end, end);
      } else {
        coverage.incomplete.push_back({start, end, name.type});
      }
    }
  }
  if (in_run) coverage.runs.push_back(run);
  std::sort(chosen.begin(), chosen.end());
  if (range.end > covered_to + kDurationTolerance) coverage.holes.push_back({covered_to, range.end});

  for (Micros hour : hours) {
    if (hour + kMicrosPerHour <= range.start || hour >= range.end) continue;
    HourCoverage figures;
    figures.hour = hour;
    const Micros from = std::max(hour, range.start);
    const Micros to = std::min(hour + kMicrosPerHour, range.end);
    if (std::shared_ptr<const HourListing> listing = lookup(hour)) {
      // The listing's segments lie in one array, so the chosen ones among them are a
      // stretch of the sorted pointers, met in the same order as the array is walked.
      auto next_chosen = std::lower_bound(chosen.begin(), chosen.end(), listing->segments.data());
      for (const StoredSegment& segment : listing->segments) {
        while (next_chosen != chosen.end() && *next_chosen < &segment) ++next_chosen;
        const bool was_chosen = next_chosen != chosen.end() && *next_chosen == &segment;
        const SegmentNameView& name = segment.name;
        if (overlap(name.start, name.end(), from, to) == 0) continue;
        switch (name.type) {
          case SegmentType::Full:
            add(figures.full, name.duration);
            break;
          case SegmentType::Suspect:
            add(figures.suspect, name.duration);
            break;
          case SegmentType::Partial:
            add(figures.partial, name.duration);
            break;
          case SegmentType::Temp:
            continue;
        }
        if (!was_chosen) add(figures.overlaps, name.duration);
      }
    }
    for (const CoverageRun& r : coverage.runs) figures.covered += overlap(r.start, r.end, from, to);
    for (const CoverageSpan& hole : coverage.holes) {
      Micros inside = overlap(hole.start, hole.end, from, to);
      if (inside == 0) continue;
      ++figures.holes;
      figures.hole_duration += inside;
    }
    coverage.hours.push_back(figures);
  }
  return coverage;
}

std::vector<PixelCoverage> coverage_pixels(const Coverage& coverage, Micros pixel) {
  const Micros start = coverage.range.start;
  const Micros span = coverage.range.span();
  if (span <= 0 || pixel <= 0) return {};
  const std::size_t count = std::size_t((span + pixel - 1) / pixel);
  std::vector<PixelCoverage> pixels(count, PixelCoverage::Full);
  // The pixels a span touches: from the one holding its start to the one holding its
  // last moment.
  auto touched = [&](Micros from, Micros to, PixelCoverage state) {
    if (to <= from) return;
    std::size_t first = std::size_t(std::max<Micros>(0, from - start) / pixel);
    std::size_t last = std::min(count, std::size_t((to - start + pixel - 1) / pixel));
    for (std::size_t i = first; i < last; ++i) {
      if (state == PixelCoverage::None || pixels[i] == PixelCoverage::Full) pixels[i] = state;
    }
  };
  for (const IncompleteSpan& incomplete : coverage.incomplete) {
    touched(incomplete.start, incomplete.end, PixelCoverage::Incomplete);
  }
  for (const CoverageSpan& hole : coverage.holes) touched(hole.start, hole.end, PixelCoverage::None);
  // A last pixel reaching past the range's end has nothing there.
  if (Micros(count) * pixel > span) pixels.back() = PixelCoverage::None;
  return pixels;
}

}  // namespace wubd::core
