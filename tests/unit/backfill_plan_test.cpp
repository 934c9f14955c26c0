#include "wubd/core/backfill_plan.h"

#include "wubd/core/hour_files.h"

#include <gtest/gtest.h>

#include <memory>

namespace wubd::core {
namespace backfill_plan_test {

constexpr Micros kSecond = kMicrosPerSecond;
const char* kHash = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU";

std::string name(const char* time, const char* type = "full") {
  return std::string(time) + "-2.0-" + type + "-" + kHash + ".ts";
}

TEST(BackfillPlan, NameListsAreValidated) {
  auto ok = parse_name_list(R"(["a", "b"])");
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(parse_name_list("[]"));
  for (const char* bad : {"", "{}", "[1, 2]", R"(["a", null])", R"({"a": []})", "<html>", "[\"a\""}) {
    auto result = parse_name_list(bad);
    EXPECT_FALSE(result) << bad;
  }
  EXPECT_NE(parse_name_list("[1]").error().message.find("array of strings"), std::string::npos);
  EXPECT_NE(parse_name_list("<html>").error().message.find("not JSON"), std::string::npos);
}

TEST(BackfillPlan, PeerHoursWithDigestsOrAPlainList) {
  std::string sha(64, 'a');
  auto wubd = parse_peer_hours(R"({"2026-11-21T04": {"count": 3, "sha256": ")" + sha + R"("}, "2026-11-21T05": null})");
  ASSERT_TRUE(wubd) << wubd.error().message;
  EXPECT_TRUE(wubd->has_digests);
  EXPECT_EQ(wubd->hours, (std::vector<std::string>{"2026-11-21T04", "2026-11-21T05"}));
  ASSERT_TRUE(wubd->digests.at("2026-11-21T04").has_value());
  EXPECT_EQ(*wubd->digests.at("2026-11-21T04"), (HourDigest{3, sha}));
  EXPECT_FALSE(wubd->digests.at("2026-11-21T05").has_value());
  auto wubloader = parse_peer_hours(R"(["2026-11-21T04"])");  // ignores ?digest=true
  ASSERT_TRUE(wubloader);
  EXPECT_FALSE(wubloader->has_digests);
  EXPECT_EQ(wubloader->hours, std::vector<std::string>{"2026-11-21T04"});
  for (const char* bad : {"", "[1]", R"({"h": 1})", R"({"h": {"count": 1}})", R"({"h": {"count": -1, "sha256": ""}})",
                          R"({"h": {"count": 1, "sha256": "short"}})"}) {
    EXPECT_FALSE(parse_peer_hours(bad)) << bad;
  }
}

TEST(BackfillPlan, HoursUnionExplicitAndLast) {
  EXPECT_EQ(hours_union({{"2026-11-21T03", "2026-11-21T04"}, {"2026-11-21T02", "2026-11-21T04"}, {}}),
            (std::vector<std::string>{"2026-11-21T02", "2026-11-21T03", "2026-11-21T04"}));
  // What a wubloader node lists for `emotes/ID`: no hours, nothing to ask for.
  EXPECT_TRUE(hours_union({{"dark-1.0", "light-3.0"}}).empty());
  EXPECT_EQ(hours_union({{"2026-11-21T03", "notes", "2026-11-21T3"}}), std::vector<std::string>{"2026-11-21T03"});
  const std::vector<std::string> callers = {"2026-11-21T05", "2026-11-21T01", "2026-11-21T03"};
  std::vector<std::string> before = callers;
  EXPECT_EQ(explicit_hours(callers), (std::vector<std::string>{"2026-11-21T01", "2026-11-21T03", "2026-11-21T05"}));
  EXPECT_EQ(callers, before);  // never mutated
  Micros now = *parse_time("2026-11-21T04:30:00Z");
  EXPECT_EQ(*last_hours(3, now), (std::vector<std::string>{"2026-11-21T02", "2026-11-21T03", "2026-11-21T04"}));
  EXPECT_EQ(*last_hours(1, now), (std::vector<std::string>{"2026-11-21T04"}));
  EXPECT_EQ(*last_hours(2, *parse_time("2026-11-21T00:10:00Z")),
            (std::vector<std::string>{"2026-11-20T23", "2026-11-21T00"}));
  for (int bad : {0, -1}) {
    auto result = last_hours(bad, now);
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find("at least 1"), std::string::npos);
  }
}

// A local hour as the store lists it (make_hour_listing, every file 1 byte).
std::shared_ptr<HourListing> local_hour(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  std::vector<std::pair<std::string, std::string>> rejected;
  return make_hour_listing(
      "2026-11-21T04", *parse_hour("2026-11-21T04"), std::make_shared<const std::string>(join_names(names)),
      [](std::string_view) { return std::int64_t(1); }, rejected);
}

std::string tombstone(const std::string& file) { return tombstone_name(file); }

TEST(BackfillPlan, MissingIsRemoteMinusLocalWithSkips) {
  Micros now = *parse_time("2026-11-21T04:10:00Z");
  std::vector<std::string> remote = {
      name("00:00.000000"),             // we have it
      name("00:02.000000"),             // missing
      name("00:04.000000", "partial"),  // missing (a partial is still data)
      name("00:06.000000", "temp"),     // temp: skipped
      "junk.ts",                        // bad name: skipped
      name("09:30.000000"),             // 30 s old: too recent with a 60 s cutoff
      name("08:30.000000"),             // 90 s old: fetched
  };
  std::vector<std::string> local = {name("00:00.000000"), name("00:04.000000", "full")};
  FilesToCopy missing = files_to_copy("2026-11-21T04", remote, *local_hour(local), now, 60 * kSecond);
  EXPECT_EQ(missing.fetch,
            (std::vector<std::string>{name("00:02.000000"), name("00:04.000000", "partial"), name("08:30.000000")}));
  ASSERT_EQ(missing.skipped.size(), 2u);
  EXPECT_EQ(missing.skipped[0].second, "temp file");
  EXPECT_EQ(missing.skipped[1].first, "junk.ts");
  EXPECT_EQ(missing.too_recent, 1u);
  EXPECT_TRUE(files_to_copy("2026-11-21T04", remote, *local_hour(remote), now, 0).fetch.empty());
}

TEST(BackfillPlan, TombstonesSpreadAndALocalOneKeepsItsSegmentDeleted) {
  Micros now = *parse_time("2026-11-21T06:00:00Z");
  std::string kept = name("00:00.000000"), deleted_there = name("00:02.000000"), deleted_here = name("00:04.000000");
  // wubloader's ?tombstones=true listing: a tombstoned segment is not listed, its
  // tombstone is.
  std::vector<std::string> remote = {kept, tombstone(deleted_there), deleted_here, "junk.tombstone"};
  // Here: the segment the peer deleted (still on disk), and a tombstone of our own.
  std::vector<std::string> local = {deleted_there, deleted_here, tombstone(deleted_here)};
  FilesToCopy missing = files_to_copy("2026-11-21T04", remote, *local_hour(local), now, 0);
  EXPECT_EQ(missing.fetch, std::vector<std::string>{kept});
  EXPECT_EQ(missing.tombstones, std::vector<std::string>{tombstone(deleted_there)});
  EXPECT_EQ(missing.deleted_here, 1u);  // our tombstone wins over the peer's copy
  ASSERT_EQ(missing.skipped.size(), 1u);
  EXPECT_EQ(missing.skipped[0].first, "junk.tombstone");
  // A tombstone we already have is not created again.
  local.push_back(tombstone(deleted_there));
  EXPECT_TRUE(files_to_copy("2026-11-21T04", remote, *local_hour(local), now, 0).tombstones.empty());
}

TEST(BackfillPlan, ChatBatchesAreCopiedWithoutTheRecentCutoff) {
  Micros now = *parse_time("2026-11-21T04:10:00Z");
  std::string batch = std::string("10:00-") + kHash + ".json";  // 0 s old
  std::string merged_away = std::string("09:00-") + kHash + ".json";
  std::vector<std::string> remote = {batch, merged_away, "notes.json", tombstone(merged_away)};
  FilesToCopy missing = files_to_copy("2026-11-21T04", remote, *local_hour({}), now, 60 * kSecond);
  EXPECT_EQ(missing.fetch, (std::vector<std::string>{merged_away, batch}));
  EXPECT_EQ(missing.tombstones, std::vector<std::string>{tombstone(merged_away)});
  ASSERT_EQ(missing.skipped.size(), 1u);
  EXPECT_EQ(missing.skipped[0].first, "notes.json");
}

TEST(BackfillPlan, ASegmentWithin1msOfAnIdenticalLocalOneIsTheSame) {
  Micros now = *parse_time("2026-11-21T06:00:00Z");
  std::vector<std::string> local = {name("00:02.000000")};
  std::vector<std::string> remote = {name("00:02.001"), name("00:02.002"), name("00:02.001", "partial")};
  FilesToCopy missing = files_to_copy("2026-11-21T04", remote, *local_hour(local), now, 0);
  EXPECT_EQ(missing.near_duplicates, 1u);
  EXPECT_EQ(missing.fetch, (std::vector<std::string>{name("00:02.001", "partial"), name("00:02.002")}));
}

TEST(BackfillPlan, Ordering) {
  std::vector<std::pair<std::string, std::string>> base = {
      {"2026-11-21T04", "b"}, {"2026-11-21T03", "z"}, {"2026-11-21T04", "a"}, {"2026-11-21T05", "c"}};
  std::mt19937_64 random(1);
  auto forward = base;
  order_downloads(forward, FillOrder::Forward, random);
  EXPECT_EQ(forward.front(), (std::pair<std::string, std::string>{"2026-11-21T03", "z"}));
  EXPECT_EQ(forward.back(), (std::pair<std::string, std::string>{"2026-11-21T05", "c"}));
  auto reverse = base;
  order_downloads(reverse, FillOrder::Reverse, random);
  EXPECT_EQ(reverse.front(), forward.back());
  EXPECT_EQ(reverse.back(), forward.front());
  // Random: the same items, and not always the sorted order.
  bool differs = false;
  for (int i = 0; i < 20 && !differs; ++i) {
    auto shuffled = base;
    order_downloads(shuffled, FillOrder::Random, random);
    auto sorted = shuffled;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, forward);
    differs = shuffled != forward;
  }
  EXPECT_TRUE(differs);
  EXPECT_TRUE(parse_fill_order("reverse"));
  EXPECT_FALSE(parse_fill_order("sideways"));
}

TEST(BackfillPlan, PassSchedule) {
  const Micros fill = 300 * kSecond, full = 3 * 3600 * kSecond, now = 10'000 * kSecond;
  struct Case {
    const char* what;
    PassSchedule schedule;
    PassKind kind;
    Micros wait;
  };
  const Case cases[] = {
      {"start: recent first", {std::nullopt, std::nullopt}, PassKind::Recent, 0},
      {"then all hours", {now - kSecond, std::nullopt}, PassKind::Full, 0},
      {"both done: wait for the recent one", {now - 100 * kSecond, now - 100 * kSecond}, PassKind::None, 200 * kSecond},
      {"recent due", {now - fill, now - fill}, PassKind::Recent, 0},
      {"full due wins", {now - 10 * kSecond, now - full}, PassKind::Full, 0},
      {"long overdue: no negative wait", {now - 100 * full, now - 100 * full}, PassKind::Full, 0},
  };
  for (const Case& c : cases) {
    PassDecision d = next_pass(c.schedule, now, fill, full);
    EXPECT_EQ(d.kind, c.kind) << c.what;
    EXPECT_EQ(d.wait, c.wait) << c.what;
  }
}

}  // namespace backfill_plan_test
}  // namespace wubd::core
