#include "wubd/core/coverage.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "segment_refs.h"
#include "wubd/core/coverage_map.h"

namespace wubd::core {
namespace coverage_test {

constexpr Micros kS = kMicrosPerSecond;
const Micros kHour = *parse_time("2026-11-21T04:00:00Z");

// An hour directory of 2 s segments named by the second they start at.
class Hour {
 public:
  void add(int second, SegmentType type = SegmentType::Full, std::string hash = "") {
    StoredSegment s;
    s.name.start = kHour + second * kS;
    s.name.duration = 2 * kS;
    s.name.type = type;
    s.name.hash = kept(hash.empty() ? "h" + std::to_string(second) : hash);
    s.hour = "2026-11-21T04";
    s.file_name = kept(format_segment_name(s.name));
    s.size_bytes = 100;
    segments_.push_back(s);
  }
  std::shared_ptr<const HourListing> listing() {
    auto listing = std::make_shared<HourListing>();
    listing->segments = segments_;
    listing->best = best_by_start(listing->segments);
    return listing;
  }

 private:
  std::vector<StoredSegment> segments_;
};

Coverage cover(Hour& hour, Micros from, Micros to) {
  auto listing = hour.listing();
  HourLookup lookup = [listing](Micros h) { return h == kHour ? listing : nullptr; };
  return compute_coverage(lookup, {kHour}, {kHour + from * kS, kHour + to * kS});
}

TEST(Coverage, RunsHolesAndIncompleteStretchesFromTheSegmentsTimes) {
  Hour hour;
  for (int s = 0; s < 20; s += 2) hour.add(s);
  hour.add(24);                        // a hole at 20..24
  hour.add(26, SegmentType::Partial);  // covered, but only just
  hour.add(28);
  hour.add(30, SegmentType::Suspect);
  hour.add(4, SegmentType::Full, "zz");  // a second full copy of 4
  Coverage c = cover(hour, 0, 40);
  ASSERT_EQ(c.runs.size(), 2u);
  EXPECT_EQ(c.runs[0].end, kHour + 20 * kS);
  EXPECT_EQ(c.runs[0].segments, 10u);
  EXPECT_EQ(c.runs[1].start, kHour + 24 * kS);  // a partial copy is not a gap in time
  EXPECT_EQ(c.runs[1].end, kHour + 32 * kS);
  ASSERT_EQ(c.holes.size(), 2u);
  EXPECT_EQ(c.holes[0].start, kHour + 20 * kS);
  EXPECT_EQ(c.holes[0].end, kHour + 24 * kS);
  EXPECT_EQ(c.holes[1].start, kHour + 32 * kS);  // the range runs on past the last segment
  EXPECT_EQ(c.holes[1].end, kHour + 40 * kS);
  ASSERT_EQ(c.incomplete.size(), 2u);
  EXPECT_EQ(c.incomplete[0].type, SegmentType::Partial);
  EXPECT_EQ(c.incomplete[1].type, SegmentType::Suspect);
  ASSERT_EQ(c.hours.size(), 1u);
  const HourCoverage& h = c.hours[0];
  EXPECT_EQ(h.full.count, 13u);
  EXPECT_EQ(h.partial.count, 1u);
  EXPECT_EQ(h.suspect.count, 1u);
  EXPECT_EQ(h.overlaps.count, 1u);  // the second copy of 4
  EXPECT_EQ(h.covered, 28 * kS);
  EXPECT_EQ(h.holes, 2u);
  EXPECT_EQ(h.hole_duration, 12 * kS);
}

TEST(Coverage, APixelIsAsBadAsTheWorstOfItsSpan) {
  Hour hour;
  hour.add(0);
  hour.add(2);
  hour.add(5);                        // a hole at 4..5 (one second: half a pixel)
  hour.add(7, SegmentType::Partial);  // 7..9: touches pixels 3 and 4
  hour.add(9);
  Coverage c = cover(hour, 0, 12);
  std::vector<PixelCoverage> pixels = coverage_pixels(c, 2 * kS);
  ASSERT_EQ(pixels.size(), 6u);
  EXPECT_EQ(pixels[0], PixelCoverage::Full);
  EXPECT_EQ(pixels[1], PixelCoverage::Full);
  EXPECT_EQ(pixels[2], PixelCoverage::None);        // 4..6, half of it a hole
  EXPECT_EQ(pixels[3], PixelCoverage::Incomplete);  // 6..8
  EXPECT_EQ(pixels[4], PixelCoverage::Incomplete);  // 8..10
  EXPECT_EQ(pixels[5], PixelCoverage::None);        // 10..12: nothing after 11
}

TEST(Coverage, TheMapPlacesTimesInColumnsOfTenMinutes) {
  TimeRange day{kHour, kHour + 24 * kMicrosPerHour};
  CoverageMapLayout layout = coverage_map_layout(day);
  EXPECT_EQ(layout.column_width, 4);
  EXPECT_EQ(coverage_map_layout({kHour, kHour + 5 * 24 * kMicrosPerHour}).column_width, 2);
  EXPECT_EQ(coverage_map_layout({kHour, kHour + 30 * 24 * kMicrosPerHour}).column_width, 1);
  EXPECT_EQ(layout.place(day, kHour), (std::pair{0, 12}));
  EXPECT_EQ(layout.place(day, kHour + 598 * kS), (std::pair{0, 12 + 299}));
  EXPECT_EQ(layout.place(day, kHour + 600 * kS), (std::pair{4, 12}));
  EXPECT_EQ(layout.place(day, kHour - 1), (std::pair{-1, -1}));
  Hour hour;
  for (int s = 0; s < 600; s += 2) hour.add(s);
  hour.add(600, SegmentType::Partial);
  Coverage c = cover(hour, 0, 1200);
  Picture map = draw_coverage_map(c, coverage_map_layout(c.range));
  auto colour = [&](int x, int y) {
    const std::uint8_t* p = map.at(x, y);
    return std::vector<int>{p[0], p[1], p[2]};
  };
  EXPECT_EQ(colour(1, 12), (std::vector<int>{0x1f, 0x77, 0xb4}));  // full
  EXPECT_EQ(colour(5, 12), (std::vector<int>{0xff, 0x7f, 0x0e}));  // partial, the next column
  EXPECT_EQ(colour(5, 13), (std::vector<int>{0xff, 0xff, 0xff}));  // nothing after it
  std::string svg = coverage_map_svg(c, coverage_map_layout(c.range));
  EXPECT_NE(svg.find("<rect x=\"0\" y=\"12\" width=\"4\" height=\"300\" fill=\"#1f77b4\"/>"), std::string::npos) << svg;
}

}  // namespace coverage_test
}  // namespace wubd::core
