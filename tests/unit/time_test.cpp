#include "wubd/core/time.h"

#include <gtest/gtest.h>

namespace wubd::core {
namespace time_test {

// 2026-11-21T04:05:06Z
constexpr Micros kBase = 1795233906LL * kMicrosPerSecond;

struct ParseCase {
  const char* text;
  Micros expected;
};

TEST(ParseTime, AcceptsTheApiFormats) {
  const ParseCase cases[] = {
      {"2026-11-21T04:05:06", kBase},
      {"2026-11-21T04:05:06Z", kBase},
      {"2026-11-21T04:05:06z", kBase},
      {"2026-11-21T04:05:06.789", kBase + 789'000},
      {"2026-11-21T04:05:06.789Z", kBase + 789'000},
      {"2026-11-21T04:05:06.000001Z", kBase + 1},
      {"2026-11-21T04:05:06.1234567Z", kBase + 123'456},  // beyond microseconds: truncated
      {"2026-11-21T04:05:06+00:00", kBase},
      {"2026-11-21T04:05:06.5+00:00", kBase + 500'000},
      {"2026-11-21T06:05:06+02:00", kBase},
      {"2026-11-21T06:05:06+0200", kBase},
      {"2026-11-21T06:05:06+02", kBase},
      {"2026-11-21T00:35:06-03:30", kBase},
      {"2026-11-21 04:05:06", kBase},
      {"2026-11-21T04:05", kBase - 6 * kMicrosPerSecond},
      {"2026-11-21", kBase - (4 * 3600 + 5 * 60 + 6) * kMicrosPerSecond},
      {"1970-01-01T00:00:00Z", 0},
      {"1969-12-31T23:59:59.5Z", -500'000},
      {"2024-02-29T00:00:00Z", 1'709'164'800LL * kMicrosPerSecond},
      {"0001-01-01T00:00:00Z", -62'135'596'800LL * kMicrosPerSecond},
      {"9999-12-31T23:59:59.999999Z", 253'402'300'800LL * kMicrosPerSecond - 1},
  };
  for (const auto& c : cases) {
    auto t = parse_time(c.text);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.error().message;
    EXPECT_EQ(*t, c.expected) << c.text;
  }
}

TEST(ParseTime, RejectsEverythingElseNamingTheInput) {
  const char* cases[] = {
      "",
      "now",
      "2026-11-21T",
      "2026-11-21T04",
      "2026-11-21T04:05:06.",
      "2026-11-21T04:05:06.1234567890",
      "2026-11-21T24:00:00",
      "2026-11-21T04:60:00",
      "2026-11-21T04:05:60",
      "2026-13-01T00:00:00",
      "2026-02-30T00:00:00",
      "2025-02-29T00:00:00",
      "2026-11-21T04:05:06+2",
      "2026-11-21T04:05:06+25:00",
      "2026-11-21T04:05:06Zjunk",
      "2026-11-21T04:05:06 ",
      "26-11-21T04:05:06",
      "1795752306",
      // Years no hour directory name can hold (%Y is four digits, 0001-9999 in Python).
      "0000-01-01T00:00:00",
      "0001-01-01T00:30:00+01:00",
      "9999-12-31T23:30:00-01:00",
  };
  for (const char* text : cases) {
    auto t = parse_time(text);
    ASSERT_FALSE(t.ok()) << "accepted: " << text;
    EXPECT_NE(t.error().message.find(std::string("\"") + text + "\""), std::string::npos) << t.error().message;
    EXPECT_EQ(t.error().code, 400);
  }
}

TEST(FormatTime, MillisecondsWithZ) {
  EXPECT_EQ(format_time(kBase + 789'999), "2026-11-21T04:05:06.789Z");
  EXPECT_EQ(format_time(kBase), "2026-11-21T04:05:06.000Z");
  EXPECT_EQ(format_time(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_time_us(kBase + 789'012), "2026-11-21T04:05:06.789012Z");
}

TEST(FormatTime, RoundTripsThroughParse) {
  for (Micros t : {Micros{0}, kBase, kBase + 123'000, Micros{-86'400'000'000}, kBase * 2}) {
    auto parsed = parse_time(format_time(t));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, t / 1000 * 1000 - (t < 0 && t % 1000 ? 1000 : 0));
  }
}

TEST(Hours, FormatParseAndFloor) {
  EXPECT_EQ(format_hour(kBase), "2026-11-21T04");
  EXPECT_EQ(floor_hour(kBase), kBase - (5 * 60 + 6) * kMicrosPerSecond);
  EXPECT_EQ(floor_hour(-1), -kMicrosPerHour);
  auto h = parse_hour("2026-11-21T04");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, floor_hour(kBase));
  for (const char* bad : {"2026-11-21T4", "2026-11-21T24", "2026-11-21 04", "2026-11-21T04:00", "xxxx-11-21T04",
                          "2026-02-30T00", "0000-01-01T00", ""}) {
    EXPECT_FALSE(parse_hour(bad).ok()) << bad;
  }
}

TEST(HttpDate, Rfc9110Fixdate) {
  EXPECT_EQ(format_http_date(kBase), "Sat, 21 Nov 2026 04:05:06 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

}  // namespace time_test
}  // namespace wubd::core
