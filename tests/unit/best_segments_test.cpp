#include "wubd/core/best_segments.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "segment_refs.h"

namespace wubd::core {
namespace best_segments_test {

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
      s.hour = kept(format_hour(s.name.start));
      s.file_name = kept(format_segment_name(s.name));
      s.size_bytes = spec.size;
      listings_[floor_hour(s.name.start)].push_back(s);
    }
    for (auto& [hour, segments] : listings_) {
      auto listing = std::make_shared<HourListing>();
      listing->segments = std::move(segments);
      listing->best = best_by_start(listing->segments);
      best_[hour] = std::move(listing);
      hours_.push_back(hour);
    }
  }

  HourLookup lookup() {
    return [this](Micros hour) -> std::shared_ptr<const HourListing> {
      looked_up_.insert(hour);
      auto it = best_.find(hour);
      return it == best_.end() ? nullptr : it->second;
    };
  }

  // Forgets every listing, as a store's rescan or eviction does.
  void forget_listings() { best_.clear(); }

  // "a b _ c": labels of the result, `_` for a hole.
  std::string select(Micros start, Micros end) {
    std::string out;
    for (SegmentOrHole s : best_segments(lookup(), hours_, day_start() + start, day_start() + end)) {
      if (!out.empty()) out += ' ';
      out += s ? s->name.hash : "_";
    }
    return out;
  }

  std::set<Micros> looked_up_;

 private:
  std::map<Micros, std::vector<StoredSegment>> listings_;
  std::map<Micros, std::shared_ptr<const HourListing>> best_;
  std::vector<Micros> hours_;  // the hour directories that exist, in order
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

// Two real 32-byte hashes whose text and byte orders disagree.
const char* const kHashZero = "0AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const char* const kHashZed = "zAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

TEST(BestSegments, ContiguousSegmentsCoverTheRange) {
  run({
      {"exact range", {full(0, "a"), full(2 * kSecond, "b"), full(4 * kSecond, "c")}, 0, 6 * kSecond, "a b c"},
      {"range ends mid-segment", {full(0, "a"), full(2 * kSecond, "b"), full(4 * kSecond, "c")}, 0, 3 * kSecond, "a b"},
  });
}

TEST(BestSegments, FirstSegmentMayStartBeforeStartIfItCoversIt) {
  run({
      {"covers start", {full(0, "a"), full(2 * kSecond, "b")}, 1 * kSecond, 4 * kSecond, "a b"},
      {"ends exactly at start: not covering", {full(0, "a"), full(2 * kSecond, "b")}, 2 * kSecond, 4 * kSecond, "b"},
      {"start inside the last segment", {full(0, "a"), full(2 * kSecond, "b")}, 3 * kSecond, 10 * kSecond, "b _"},
  });
}

TEST(BestSegments, NothingCoveringStartBeginsWithAHole) {
  run({
      {"first segment after start", {full(2 * kSecond, "b"), full(4 * kSecond, "c")}, 0, 6 * kSecond, "_ b c"},
      {"segment before start that does not cover it is ignored",
       {full(0, "a"), full(5 * kSecond, "c")},
       3 * kSecond,
       7 * kSecond,
       "_ c"},
  });
}

TEST(BestSegments, OverlapBeyondToleranceIsSkipped) {
  run({
      {"overlap of 100 ms skipped",
       {full(0, "a"), full(1900 * kMs, "x"), full(2 * kSecond, "b")},
       0,
       4 * kSecond,
       "a b"},
      {"overlap of 11 ms skipped, then a gap", {full(0, "a"), full(1989 * kMs, "x")}, 0, 4 * kSecond, "a _"},
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
       {full(kH1 - 2 * kSecond, "a"), full(2 * kH1, "c")},
       kH1 - 2 * kSecond,
       2 * kH1 + 2 * kSecond,
       "a _ c"},
  });
}

TEST(BestSegments, PartialOrSuspectIsFollowedByAHole) {
  run({
      {"partial then full",
       {{0, 2 * kSecond, SegmentType::Partial, "p"}, full(2 * kSecond, "b")},
       0,
       4 * kSecond,
       "p _ b"},
      {"suspect then full",
       {{0, 2 * kSecond, SegmentType::Suspect, "s"}, full(2 * kSecond, "b")},
       0,
       4 * kSecond,
       "s _ b"},
      {"full then partial at the end: trailing hole",
       {full(0, "a"), {2 * kSecond, 2 * kSecond, SegmentType::Partial, "p"}},
       0,
       4 * kSecond,
       "a p _"},
      {"suspect at the end: complete, no trailing hole",
       {full(0, "a"), {2 * kSecond, 2 * kSecond, SegmentType::Suspect, "s"}},
       0,
       4 * kSecond,
       "a s"},
  });
}

TEST(BestSegments, BestCopyPerStartTime) {
  run({
      {"full beats suspect and partial",
       {{0, 2 * kSecond, SegmentType::Partial, "p", 5000}, {0, 2 * kSecond, SegmentType::Suspect, "s"}, full(0, "f")},
       0,
       2 * kSecond,
       "f"},
      {"suspect beats partial",
       {{0, 2 * kSecond, SegmentType::Partial, "p", 5000}, {0, 2 * kSecond, SegmentType::Suspect, "s"}},
       0,
       2 * kSecond,
       "s"},
      {"largest partial",
       {{0, 2 * kSecond, SegmentType::Partial, "p1", 100},
        {0, 2 * kSecond, SegmentType::Partial, "p2", 900},
        {0, 2 * kSecond, SegmentType::Partial, "p3", 500}},
       0,
       2 * kSecond,
       "p2 _"},
      {"several full: the longest", {full(0, "x", 1990 * kMs), full(0, "y", 2 * kSecond)}, 0, 2 * kSecond, "y"},
      {"several full of one duration and size: the highest hash",
       {full(0, "AAAB"), full(0, "AAAC"), full(0, "AAAA")},
       0,
       2 * kSecond,
       "AAAC"},
      {"several full of one duration: the largest file before the highest hash",
       {{0, 2 * kSecond, SegmentType::Full, "AAAB", 900}, {0, 2 * kSecond, SegmentType::Full, "AAAC", 800}},
       0,
       2 * kSecond,
       "AAAB"},
      {"the longest before the largest",
       {{0, 1990 * kMs, SegmentType::Full, "AAAB", 9000}, {0, 2 * kSecond, SegmentType::Full, "AAAC", 800}},
       0,
       2 * kSecond,
       "AAAC"},
      // '0' sorts before 'z' as text but decodes to 52 > 51: wubloader compares bytes.
      {"hashes compared as decoded bytes, not text",
       {full(0, kHashZero), full(0, kHashZed)},
       0,
       2 * kSecond,
       kHashZero},
      {"suspects: the largest file",
       {{0, 2 * kSecond, SegmentType::Suspect, "AAAB", 100}, {0, 2 * kSecond, SegmentType::Suspect, "AAAA", 700}},
       0,
       2 * kSecond,
       "AAAA"},
      {"suspect over a larger partial",
       {{0, 2 * kSecond, SegmentType::Partial, "AAAB", 9000}, {0, 2 * kSecond, SegmentType::Suspect, "AAAA", 7}},
       0,
       2 * kSecond,
       "AAAA"},
      {"equal partials: the first name",
       {{0, 2 * kSecond, SegmentType::Partial, "AAAC", 50}, {0, 2 * kSecond, SegmentType::Partial, "AAAB", 50}},
       0,
       2 * kSecond,
       "AAAB _"},
      {"temp is never chosen", {{0, 2 * kSecond, SegmentType::Temp, "t"}}, 0, 2 * kSecond, "_"},
      {"temp beside a partial",
       {{0, 2 * kSecond, SegmentType::Temp, "t", 9999}, {0, 2 * kSecond, SegmentType::Partial, "p", 10}},
       0,
       2 * kSecond,
       "p _"},
  });
}

TEST(BestSegments, StopsAtTheFirstSegmentReachingTheEnd) {
  run({
      {"later segments not included",
       {full(0, "a"), full(2 * kSecond, "b"), full(4 * kSecond, "c"), full(6 * kSecond, "d")},
       0,
       4 * kSecond,
       "a b"},
      {"end inside a segment",
       {full(0, "a"), full(2 * kSecond, "b"), full(4 * kSecond, "c")},
       0,
       4 * kSecond + 1,
       "a b c"},
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
       {full(kH1 - 1 * kSecond, "a"), full(kH1 + 1 * kSecond, "b")},
       kH1 + 1 * kSecond / 2,
       kH1 + 3 * kSecond,
       "a b"},
      {"start exactly on the hour, previous hour's segment ends there",
       {full(kH1 - 2 * kSecond, "a"), full(kH1, "b")},
       kH1,
       kH1 + 2 * kSecond,
       "b"},
      {"contiguous across three hours",
       {full(kH1 - 2 * kSecond, "a"), full(kH1, "b"), full(2 * kH1 - 2 * kSecond, "c"), full(2 * kH1, "d")},
       kH1 - 2 * kSecond,
       2 * kH1 + 2 * kSecond,
       "a b _ c d"},
  });
}

TEST(BestSegments, ScansTheExistingHoursFromTheHourBeforeStartToEndsHour) {
  Archive archive(
      {full(-kH1, "before"), full(0, "z"), full(kH1 + 10 * kSecond, "a"), full(3 * kH1, "c"), full(4 * kH1, "after")});
  (void)archive.select(kH1 + 5 * kSecond, 3 * kH1 + 5 * kSecond);
  // Hour 0 (before start's hour), 1 and 3 exist within it; hour 2 does not.
  std::set<Micros> expected = {day_start(), day_start() + kH1, day_start() + 3 * kH1};
  EXPECT_EQ(archive.looked_up_, expected);
}

TEST(BestSegments, ARangeOfCenturiesCostsOnlyTheHoursThatExist) {
  Archive archive({full(0, "a"), full(2 * kSecond, "b")});
  Micros year_1 = *parse_time("0001-01-01T00:00:00Z");
  Micros year_9999 = *parse_time("9999-12-31T23:59:59Z");
  std::string out;
  for (SegmentOrHole s : best_segments(archive.lookup(), {day_start()}, year_1, year_9999)) {
    out += s ? s->name.hash : "_";
  }
  EXPECT_EQ(out, "_ab_");
  EXPECT_EQ(archive.looked_up_, std::set<Micros>{day_start()});
}

TEST(BestSegments, ASelectionKeepsItsListingsAlive) {
  // Segments held across later lookups (a cut plans, then reads frames, then splices)
  // stay whole after whoever looked them up dropped their listings, as a store's
  // rescan or eviction does. (With raw pointers this read freed memory.)
  Archive archive({full(0, "a"), full(2 * kSecond, "b"), full(kH1, "c")});
  std::vector<SegmentOrHole> held =
      best_segments(archive.lookup(), {day_start(), day_start() + kH1}, day_start(), day_start() + kH1 + kSecond);
  archive.forget_listings();
  std::string out;
  for (const SegmentOrHole& s : held) {
    if (!out.empty()) out += ' ';
    out += s ? std::string(s->name.hash) + ":" + std::string(s->hour) : "_";
  }
  EXPECT_EQ(out, "a:" + format_hour(day_start()) + " b:" + format_hour(day_start()) +
                     " _ c:" + format_hour(day_start() + kH1));
  EXPECT_EQ(held[0].use_count(), held[1].use_count());  // hour 0's listing, shared by both
}

TEST(HoursToScan, PicksTheExistingHoursOfTheRange) {
  const Micros d = day_start();
  std::vector<Micros> hours = {d, d + kH1, d + 3 * kH1, d + 7 * kH1};
  struct {
    const char* rule;
    Micros start, end;
    std::vector<Micros> expected;
  } cases[] = {
      {"hour before start's included", d + kH1 + kSecond, d + kH1 + 2 * kSecond, {d, d + kH1}},
      {"end's hour included", d + 2 * kH1, d + 3 * kH1, {d + kH1, d + 3 * kH1}},
      {"nothing in range", d + 5 * kH1, d + 6 * kH1, {}},
      {"everything", d - 100 * kH1, d + 100 * kH1, hours},
      {"only after", d + 7 * kH1 + kSecond, d + 9 * kH1, {d + 7 * kH1}},
  };
  for (const auto& c : cases) EXPECT_EQ(hours_to_scan(hours, c.start, c.end), c.expected) << c.rule;
  EXPECT_TRUE(hours_to_scan({}, d, d + kH1).empty());
}
TEST(BestByStart, HashLessComparesDecodedBytes) {
  EXPECT_TRUE(hash_less(kHashZed, kHashZero));
  EXPECT_FALSE(hash_less(kHashZero, kHashZed));
  EXPECT_FALSE(hash_less(kHashZero, kHashZero));
  EXPECT_TRUE(hash_less("AAAA", "AAAB"));
  EXPECT_TRUE(hash_less("not base64!", "AAAA")) << "an undecodable hash is never preferred";
}

TEST(BestByStart, SizesAreNeededOnlyToChooseBetweenCopies) {
  std::vector<StoredSegment> listing(6);
  const std::pair<Micros, SegmentType> specs[] = {
      {0, SegmentType::Full},  // alone: no size
      {2 * kSecond, SegmentType::Full},
      {2 * kSecond, SegmentType::Full},  // two full: sizes
      {4 * kSecond, SegmentType::Full},
      {4 * kSecond, SegmentType::Temp},     // full beside temp: none
      {6 * kSecond, SegmentType::Partial},  // partial: size
  };
  for (std::size_t i = 0; i < listing.size(); ++i) {
    listing[i].name.start = specs[i].first;
    listing[i].name.type = specs[i].second;
  }
  EXPECT_EQ(needs_size(listing), (std::vector<bool>{false, true, true, false, false, true}));
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

}  // namespace best_segments_test
}  // namespace wubd::core
