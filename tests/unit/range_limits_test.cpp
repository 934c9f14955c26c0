#include "wubd/core/range_limits.h"

#include <gtest/gtest.h>

namespace wubd::core {
namespace range_limits_test {

constexpr Micros kH = kMicrosPerHour;
const Micros kBase = *parse_time("2026-11-21T00:00:00Z");
const RangeCap kCap{24 * kH, "--max-playlist-hours"};

TEST(RangeCap, RefusesSpansOverTheCapNamingTheFlag) {
  EXPECT_FALSE(check_range_cap(24 * kH, kCap));
  EXPECT_FALSE(check_range_cap(0, kCap));
  auto error = check_range_cap(24 * kH + 1, kCap);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, 400);
  EXPECT_EQ(error->message,
            "range of 24.0 hours is longer than the 24.0 hours --max-playlist-hours allows; ask for a shorter range");
}

TEST(PlaylistRange, DefaultsToTheArchiveAndCapsIt) {
  struct Case {
    const char* rule;
    std::optional<Micros> start, end;
    TimeRange available;
    TimeRange expected;
  } cases[] = {
      {"both given", kBase + kH, kBase + 2 * kH, {kBase, kBase + 48 * kH}, {kBase + kH, kBase + 2 * kH}},
      {"neither, short archive: all of it", {}, {}, {kBase, kBase + 5 * kH}, {kBase, kBase + 5 * kH}},
      {"neither, long archive: the newest cap", {}, {}, {kBase, kBase + 100 * kH}, {kBase + 76 * kH, kBase + 100 * kH}},
      {"end only: the cap before it",
       {},
       kBase + 30 * kH,
       {kBase, kBase + 100 * kH},
       {kBase + 6 * kH, kBase + 30 * kH}},
      {"start only: to the end", kBase + 90 * kH, {}, {kBase, kBase + 100 * kH}, {kBase + 90 * kH, kBase + 100 * kH}},
      {"start after the end: empty, not an error",
       kBase + 200 * kH,
       {},
       {kBase, kBase + 100 * kH},
       {kBase + 200 * kH, kBase + 100 * kH}},
  };
  for (const Case& c : cases) {
    auto range = playlist_range(c.start, c.end, c.available, kCap);
    ASSERT_TRUE(range) << c.rule << ": " << range.error().message;
    EXPECT_EQ(range->start, c.expected.start) << c.rule;
    EXPECT_EQ(range->end, c.expected.end) << c.rule;
  }
}

TEST(PlaylistRange, ExplicitRangesOverTheCapAre400) {
  TimeRange archive{kBase, kBase + 100 * kH};
  for (auto [start, end] : {std::pair<std::optional<Micros>, std::optional<Micros>>{kBase, kBase + 25 * kH},
                            {kBase, std::nullopt},
                            {*parse_time("0001-01-01"), *parse_time("9999-12-31")}}) {
    auto range = playlist_range(start, end, archive, kCap);
    ASSERT_FALSE(range);
    EXPECT_EQ(range.error().code, 400);
    EXPECT_NE(range.error().message.find("--max-playlist-hours"), std::string::npos);
  }
}

}  // namespace range_limits_test
}  // namespace wubd::core
