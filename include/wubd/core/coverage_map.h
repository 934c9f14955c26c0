#pragma once

#include <string>

#include "wubd/core/coverage.h"
#include "wubd/core/picture.h"

// The picture wubloader's coverage maps draw (segment_coverage): 2 seconds a pixel,
// top to bottom, a column per 10 minutes, left to right; white where there is no
// coverage, matplotlib's tab:blue where full segments cover, tab:orange where only
// partial or suspect ones do. wubd adds hour labels above the columns and a legend
// below them, and draws each column `column_width` pixels wide so the labels fit.
namespace wubd::core {

struct CoverageMapLayout {
  Micros pixel = 2 * kMicrosPerSecond;
  int rows = 300;        // a column: 10 minutes
  int column_width = 4;  // pixels a column is drawn wide
  int top = 12;          // the hour labels' band
  int bottom = 14;       // the legend's band
  // Where the pixel for time `t` is drawn: its column's left edge and its row (-1,
  // -1 outside the range).
  std::pair<int, int> place(const TimeRange& range, Micros t) const;
};

// The column width for a range: 4 pixels up to two days, 2 up to a week, else 1.
CoverageMapLayout coverage_map_layout(const TimeRange& range);

Picture draw_coverage_map(const Coverage& coverage, const CoverageMapLayout& layout);
std::string coverage_map_svg(const Coverage& coverage, const CoverageMapLayout& layout);

}  // namespace wubd::core
