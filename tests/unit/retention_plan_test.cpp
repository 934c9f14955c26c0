#include "wubd/core/retention_plan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wubd::core {
namespace retention_plan_test {

constexpr std::int64_t kGiB = 1024LL * 1024 * 1024;
constexpr Micros kMinute = 60 * kMicrosPerSecond;

Micros day() { return *parse_time("2026-11-21T00:00:00Z"); }
Micros at_hour(int h) { return day() + h * kMicrosPerHour; }

// Hours 0..count-1 of the day for each of `variants` of `stream`, 1 GiB each.
std::vector<ArchiveHour> archive(const std::string& stream, int count, std::vector<std::string> variants = {"source"}) {
  std::vector<ArchiveHour> hours;
  for (int h = 0; h < count; ++h) {
    for (const std::string& v : variants) hours.push_back({stream, v, at_hour(h), kGiB, 1800});
  }
  return hours;
}

// "stream/variant/HH reason" per deletion.
std::vector<std::string> deleted(const RetentionPlan& plan) {
  std::vector<std::string> out;
  for (const HourDeletion& d : plan.deletions) {
    out.push_back(d.hour.stream + "/" + d.hour.variant + "/" + format_hour(d.hour.start).substr(11));
  }
  return out;
}

TEST(RetentionPlanTest, KeepHoursDeletesWholeHoursOlderThanTheLimit) {
  KeepPolicy policy;
  policy.keep_for = 3 * kMicrosPerHour;
  // 10:30 now: 07:30 is the limit, so hours 00..06 are wholly older; 07 is not.
  RetentionPlan plan = plan_retention(archive("db", 11), policy, {}, at_hour(10) + kMicrosPerHour / 2);
  ASSERT_EQ(plan.deletions.size(), 7u);
  EXPECT_EQ(deleted(plan).back(), "db/source/06");
  EXPECT_EQ(plan.deletions[0].reason, "older than --keep-hours 3");
  EXPECT_TRUE(plan.unmet.empty());
}

TEST(RetentionPlanTest, AStreamsOwnLimitWinsOverTheOverallOne) {
  KeepPolicy policy;
  policy.keep_for = 2 * kMicrosPerHour;
  policy.keep_for_stream["keep"] = 24 * kMicrosPerHour;
  std::vector<ArchiveHour> hours = archive("db", 6);
  for (const ArchiveHour& h : archive("keep", 6)) hours.push_back(h);
  RetentionPlan plan = plan_retention(hours, policy, {}, at_hour(6));
  EXPECT_EQ(deleted(plan), (std::vector<std::string>{"db/source/00", "db/source/01", "db/source/02", "db/source/03"}));
}

TEST(RetentionPlanTest, KeepBytesDeletesTheOldestHoursAcrossVariantsUntilWithin) {
  KeepPolicy policy;
  policy.keep_bytes = 5 * kGiB;
  // 2 variants x 4 hours = 8 GiB; 3 GiB must go: hour 00's two variants, then 01's first.
  RetentionPlan plan = plan_retention(archive("db", 4, {"source", "480p"}), policy, {}, at_hour(12));
  EXPECT_EQ(deleted(plan), (std::vector<std::string>{"db/480p/00", "db/source/00", "db/480p/01"}));
  EXPECT_EQ(plan.deletions[0].reason, "the archive over --keep-bytes 5G");
}

TEST(RetentionPlanTest, APerStreamByteLimitTouchesOnlyThatStream) {
  KeepPolicy policy;
  policy.keep_bytes_stream["db"] = 2 * kGiB;
  std::vector<ArchiveHour> hours = archive("db", 4);
  for (const ArchiveHour& h : archive("other", 4)) hours.push_back(h);
  RetentionPlan plan = plan_retention(hours, policy, {}, at_hour(12));
  EXPECT_EQ(deleted(plan), (std::vector<std::string>{"db/source/00", "db/source/01"}));
  EXPECT_EQ(plan.deletions[0].reason, "db over --keep-bytes db=2G");
}

TEST(RetentionPlanTest, HeldRangesAndTheCurrentHourAreNeverDeleted) {
  KeepPolicy policy;
  policy.keep_bytes = 1;  // as little as possible
  std::vector<HeldRange> held = {{"", {at_hour(1) + 10 * kMinute, at_hour(1) + 20 * kMinute}},
                                 {"other", {at_hour(0), at_hour(4)}}};
  // Now is in hour 03: it stays; 01 is locked for every stream.
  RetentionPlan plan = plan_retention(archive("db", 4), policy, held, at_hour(3) + kMinute);
  EXPECT_EQ(deleted(plan), (std::vector<std::string>{"db/source/00", "db/source/02"}));
  ASSERT_EQ(plan.unmet.size(), 1u);
  EXPECT_EQ(plan.unmet[0], "the archive is 2G, over --keep-bytes 1, and every hour left is held or current");
}

TEST(RetentionPlanTest, NoPolicyDeletesNothing) {
  RetentionPlan plan = plan_retention(archive("db", 48), KeepPolicy{}, {}, at_hour(72));
  EXPECT_TRUE(plan.deletions.empty());
  EXPECT_TRUE(KeepPolicy{}.empty());
}

TEST(RetentionPlanTest, ByteSizesParseAndPrintTheShortWay) {
  EXPECT_EQ(*parse_byte_size("500G"), 500 * kGiB);
  EXPECT_EQ(*parse_byte_size("1.5T"), 1536 * kGiB);
  EXPECT_EQ(*parse_byte_size("4096"), 4096);
  EXPECT_EQ(*parse_byte_size("2K"), 2048);
  for (const char* bad : {"", "G", "5g", "-1G", "1.G", "1..5G", "0", "1e9", "9999999T"}) {
    EXPECT_FALSE(parse_byte_size(bad).ok()) << bad;
  }
  EXPECT_NE(parse_byte_size("5g").error().message.find("not a size"), std::string::npos);
  EXPECT_EQ(format_byte_size(500 * kGiB), "500G");
  EXPECT_EQ(format_byte_size(1536 * kGiB), "1536G");
  EXPECT_EQ(format_byte_size(1000), "1000");
}

TEST(RetentionPlanTest, KeepRangesParseWithOrWithoutAStream) {
  auto all = parse_keep_range("2026-11-21T04:00:00Z/2026-11-21T06:30:00Z");
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ(all->stream, "");
  EXPECT_EQ(all->range.start, at_hour(4));
  EXPECT_EQ(all->range.end, at_hour(6) + 30 * kMinute);
  auto one = parse_keep_range("db=2026-11-21T04:00:00Z/2026-11-21T05:00:00Z");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->stream, "db");
  for (const char* bad : {"2026-11-21T04:00:00Z", "2026-11-21T05:00:00Z/2026-11-21T04:00:00Z", "x/y"}) {
    EXPECT_FALSE(parse_keep_range(bad).ok()) << bad;
  }
}

}  // namespace retention_plan_test
}  // namespace wubd::core
