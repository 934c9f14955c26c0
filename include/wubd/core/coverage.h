#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "wubd/core/best_segments.h"
#include "wubd/core/range_limits.h"
#include "wubd/core/time.h"

// What the archive holds of a variant over a range, as an editor or operator wants to
// see it (/coverage): where the video runs without a gap, where the holes are, which
// stretches only an incomplete copy (partial or suspect) covers, and per hour the
// figures wubloader's segment_coverage exports (segments and seconds by type, holes,
// overlaps). Pure: it reads hour listings the store made.
namespace wubd::core {

struct CoverageSpan {
  Micros start = 0;
  Micros end = 0;
};

// Segments back to back (each starting within kDurationTolerance of the last one's
// end), whatever their type.
struct CoverageRun {
  Micros start = 0;
  Micros end = 0;
  std::size_t segments = 0;
};

// A stretch covered only by a partial or suspect copy (the best there is).
struct IncompleteSpan {
  Micros start = 0;
  Micros end = 0;
  SegmentType type = SegmentType::Partial;
};

struct TypeFigures {
  std::size_t count = 0;
  Micros duration = 0;
};

// One hour directory, as segment_coverage counts it.
struct HourCoverage {
  Micros hour = 0;
  // Every copy in the directory (temp files aside), by type.
  TypeFigures full, suspect, partial;
  // Copies the best segments left out: another copy of the same start, or one
  // overlapping the previous by more than the tolerance.
  TypeFigures overlaps;
  Micros covered = 0;        // by the best segments, within the hour and the range
  std::size_t holes = 0;     // holes of the range that reach into the hour
  Micros hole_duration = 0;  // their time within the hour
};

struct Coverage {
  TimeRange range;
  std::vector<CoverageRun> runs;
  std::vector<CoverageSpan> holes;  // the range less the runs, a leading and a trailing one included
  std::vector<IncompleteSpan> incomplete;
  std::vector<HourCoverage> hours;  // the hour directories inside the range, in order
};

// The coverage of [range.start, range.end) from the best segments of `hours` (the
// hour directories that exist, as hours_to_scan picks them). Runs and holes come from
// the segments' times (a hole after a partial copy that best_segments marks is not a
// gap in time, so it is not one here: the incomplete copy is listed instead).
Coverage compute_coverage(const HourLookup& lookup, const std::vector<Micros>& hours, const TimeRange& range);

// The state of one pixel of the coverage map: the worst over its span.
enum class PixelCoverage { None, Incomplete, Full };

// The map's pixels, `pixel` long each, from range.start: None if any part of the
// pixel has no segment, else Incomplete if any part is covered only by an incomplete
// copy, else Full (wubloader's rule).
std::vector<PixelCoverage> coverage_pixels(const Coverage& coverage, Micros pixel);

}  // namespace wubd::core
