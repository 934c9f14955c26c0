#include "wubd/core/best_segments.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace wubd::core {
namespace {

constexpr Micros kSecond = kMicrosPerSecond;
constexpr Micros kMs = kMicrosPerMilli;

// Day 2026-11-21, so that hour arithmetic crosses real directory names.
Micros day_start() { return *parse_time("2026-11-21T00:00:00Z"); }

// A segment spec: start as seconds into the day (plus microseconds), duration, type,
// and a label carried in the hash so results read like "a b _ c".
struct Spec {
  Micros start;
  Micros duration;
  SegmentType type;
  const char* label;
  std::int64_t size = 1000;
};

Spec full(Micros start, const char* label, Micros duration = 2 * kSecond) {
  return {start, duration, SegmentType::Full, label};
}

// An archive in memory: listings per hour and the lookup the store would provide.
class Archive {
 public:
  explicit Archive(const std::vector<Spec>& specs) {
    for (const Spec& spec : specs) {
      StoredSegment s;
      s.name.start = day_start() + spec.start;
      s.name.duration = spec.duration;
      s.name.type = spec.type;
      s.name.hash = spec.label;
      s.hour = format_hour(s.name.start);
      s.file_name = format_segment_name(s.name);
      s.size_bytes = spec.size;
      listings_[floor_hour(s.name.start)].push_back(s);
    }
    for (auto& [hour, listing] : listings_) best_[hour] = best_by_start(listing);
  }

  BestByStartLookup lookup() {
    return [this](Micros hour) -> const std::vector<const StoredSegment*>& {
      looked_up_.insert(hour);
      auto it = best_.find(hour);
      return it == best_.end() ? empty_ : it->second;
    };
  }

  // "a b _ c": labels of the result, `_` for a hole.
  std::string select(Micros start, Micros end) {
    std::string out;
    for (SegmentOrHole s : best_segments(lookup(), day_start() + start, day_start() + end)) {
      if (!out.empty()) out += ' ';
      out += s ? s->name.hash : "_";
    }
    return out;
  }

  std::set<Micros> looked_up_;

 private:
  std::map<Micros, std::vector<StoredSegment>> listings_;
  std::map<Micros, std::vector<const StoredSegment*>> best_;
  std::vector<const StoredSegment*> empty_;
};

struct Case {
  const char* rule;
  std::vector<Spec> archive;
  Micros start;
  Micros end;
  const char* expected;
};

void run(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    Archive archive(c.archive);
    EXPECT_EQ(archive.select(c.start, c.end), c.expected) << c.rule;
  }
}

const Micros kH1 = 3600 * kSecond;  // 01:00:00 into the day

TEST(BestSegments, ContiguousSegmentsCoverTheRange) {
  run({
      {"exact range", {full(0, "a"), full(2 * kSecond, "b"), full(4 * kSecond, "c")}, 0, 6 * kSecond, "a b c"},
      {"range ends mid-segment", {full(0, "a"), full(2 * kSecond, "b"), full(4 * kSecond, "c")}, 0,
       3 * kSecond, "a b"},
  });
}

TEST(BestSegments, FirstSegmentMayStartBeforeStartIfItCoversIt) {
  run({
      {"covers start", {full(0, "a"), full(2 * kSecond, "b")}, 1 * kSecond, 4 * kSecond, "a b"},
      {"ends exactly at start: not covering", {full(0, "a"), full(2 * kSecond, "b")}, 2 * kSecond,
       4 * kSecond, "b"},
      {"start inside the last segment", {full(0, "a"), full(2 * kSecond, "b")}, 3 * kSecond,
       10 * kSecond, "b _"},
  });
}

TEST(BestSegments, NothingCoveringStartBeginsWithAHole) {
  run({
      {"first segment after start", {full(2 * kSecond, "b"), full(4 * kSecond, "c")}, 0, 6 * kSecond, "_ b c"},
      {"segment before start that does not cover it is ignored",
       {full(0, "a"), full(5 * kSecond, "c")}, 3 * kSecond, 7 * kSecond, "_ c"},
  });
}

TEST(BestSegments, OverlapBeyondToleranceIsSkipped) {
  run({
      {"overlap of 100 ms skipped",
       {full(0, "a"), full(1900 * kMs, "x"), full(2 * kSecond, "b")}, 0, 4 * kSecond, "a b"},
      {"overlap of 11 ms skipped, then a gap",
       {full(0, "a"), full(1989 * kMs, "x")}, 0, 4 * kSecond, "a _"},
      {"overlap of exactly 10 ms accepted", {full(0, "a"), full(1990 * kMs, "b")}, 0, 3 * kSecond, "a b"},
      {"overlap of 5 ms accepted", {full(0, "a"), full(1995 * kMs, "b")}, 0, 3 * kSecond, "a b"},
  });
}

TEST(BestSegments, GapBeyondToleranceInsertsAHole) {
  run({
      {"gap of 10 ms: no hole", {full(0, "a"), full(2010 * kMs, "b")}, 0, 4 * kSecond, "a b"},
      {"gap of 11 ms: hole", {full(0, "a"), full(2011 * kMs, "b")}, 0, 4 * kSecond, "a _ b"},
      {"missing segment", {full(0, "a"), full(4 * kSecond, "c")}, 0, 6 * kSecond, "a _ c"},
      {"missing hour directory",
       {full(kH1 - 2 * kSecond, "a"), full(2 * kH1, "c")}, kH1 - 2 * kSecond, 2 * kH1 + 2 * kSecond, "a _ c"},
  });
}

TEST(BestSegments, PartialOrSuspectIsFollowedByAHole) {
  run({
      {"partial then full",
       {{0, 2 * kSecond, SegmentType::Partial, "p"}, full(2 * kSecond, "b")}, 0, 4 * kSecond, "p _ b"},
      {"suspect then full",
       {{0, 2 * kSecond, SegmentType::Suspect, "s"}, full(2 * kSecond, "b")}, 0, 4 * kSecond, "s _ b"},
      {"full then partial at the end: trailing hole",
       {full(0, "a"), {2 * kSecond, 2 * kSecond, SegmentType::Partial, "p"}}, 0, 4 * kSecond, "a p _"},
      {"suspect at the end: complete, no trailing hole",
       {full(0, "a"), {2 * kSecond, 2 * kSecond, SegmentType::Suspect, "s"}}, 0, 4 * kSecond, "a s"},
  });
}

TEST(BestSegments, BestCopyPerStartTime) {
  run({
      {"full beats suspect and partial",
       {{0, 2 * kSecond, SegmentType::Partial, "p", 5000},
        {0, 2 * kSecond, SegmentType::Suspect, "s"},
        full(0, "f")},
       0, 2 * kSecond, "f"},
      {"suspect beats partial",
       {{0, 2 * kSecond, SegmentType::Partial, "p", 5000}, {0, 2 * kSecond, SegmentType::Suspect, "s"}},
       0, 2 * kSecond, "s"},
      {"largest partial",
       {{0, 2 * kSecond, SegmentType::Partial, "p1", 100},
        {0, 2 * kSecond, SegmentType::Partial, "p2", 900},
        {0, 2 * kSecond, SegmentType::Partial, "p3", 500}},
       0, 2 * kSecond, "p2 _"},
      {"several full: the longest", {full(0, "x", 1990 * kMs), full(0, "y", 2 * kSecond)}, 0,
       2 * kSecond, "y"},
      {"several full of one duration: the highest hash", {full(0, "AAAB"), full(0, "AAAC"), full(0, "AAAA")},
       0, 2 * kSecond, "AAAC"},
      {"temp is never chosen", {{0, 2 * kSecond, SegmentType::Temp, "t"}}, 0, 2 * kSecond, "_"},
      {"temp beside a partial", {{0, 2 * kSecond, SegmentType::Temp, "t", 9999},
                                 {0, 2 * kSecond, SegmentType::Partial, "p", 10}},
       0, 2 * kSecond, "p _"},
  });
}

TEST(BestSegments, StopsAtTheFirstSegmentReachingTheEnd) {
  run({
      {"later segments not included",
       {full(0, "a"), full(2 * kSecond, "b"), full(4 * kSecond, "c"), full(6 * kSecond, "d")}, 0,
       4 * kSecond, "a b"},
      {"end inside a segment", {full(0, "a"), full(2 * kSecond, "b"), full(4 * kSecond, "c")}, 0,
       4 * kSecond + 1, "a b c"},
  });
}

TEST(BestSegments, TrailingHoles) {
  run({
      {"nothing found", {}, 0, 10 * kSecond, "_"},
      {"everything is after the range", {full(20 * kSecond, "z")}, 0, 10 * kSecond, "_"},
      {"everything is before the range", {full(0, "a")}, 10 * kSecond, 20 * kSecond, "_"},
      {"last segment ends before the end", {full(0, "a"), full(2 * kSecond, "b")}, 0, 10 * kSecond, "a b _"},
      {"last segment ends 1 us before the end", {full(0, "a")}, 0, 2 * kSecond + 1, "a _"},
  });
}

TEST(BestSegments, HourBoundaries) {
  run({
      {"segment from 00:59:59 covers 01:00:01",
       {full(kH1 - 1 * kSecond, "a"), full(kH1 + 1 * kSecond, "b")}, kH1 + 1 * kSecond / 2,
       kH1 + 3 * kSecond, "a b"},
      {"start exactly on the hour, previous hour's segment ends there",
       {full(kH1 - 2 * kSecond, "a"), full(kH1, "b")}, kH1, kH1 + 2 * kSecond, "b"},
      {"contiguous across three hours",
       {full(kH1 - 2 * kSecond, "a"), full(kH1, "b"), full(2 * kH1 - 2 * kSecond, "c"), full(2 * kH1, "d")},
       kH1 - 2 * kSecond, 2 * kH1 + 2 * kSecond, "a b _ c d"},
  });
}

TEST(BestSegments, ScansFromTheHourBeforeStartToEndsHour) {
  Archive archive({full(kH1 + 10 * kSecond, "a")});
  (void)archive.select(kH1 + 5 * kSecond, 3 * kH1 + 5 * kSecond);
  std::set<Micros> expected;
  for (int h = 0; h <= 3; ++h) expected.insert(day_start() + h * kH1);
  EXPECT_EQ(archive.looked_up_, expected);
}

TEST(BestByStart, OrdersByStartWhateverTheListingOrder) {
  std::vector<StoredSegment> listing(3);
  Micros starts[] = {4 * kSecond, 0, 2 * kSecond};
  for (int i = 0; i < 3; ++i) {
    listing[i].name.start = starts[i];
    listing[i].name.duration = 2 * kSecond;
  }
  auto best = best_by_start(listing);
  ASSERT_EQ(best.size(), 3u);
  EXPECT_EQ(best[0]->name.start, 0);
  EXPECT_EQ(best[1]->name.start, 2 * kSecond);
  EXPECT_EQ(best[2]->name.start, 4 * kSecond);
}

}  // namespace
}  // namespace wubd::core
