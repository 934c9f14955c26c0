// The store on a real temporary directory: listings, junk handling, and the cache
// (kept true by inotify, or by mtimes without it) that keeps a day-long playlist from
// re-reading its directories on every request.
#include "wubd/store/segment_store.h"
#include "temp_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace wubd::store {
namespace segment_store_test {

namespace fs = std::filesystem;

std::vector<std::string> as_strings(const std::vector<std::string_view>& views) { return {views.begin(), views.end()}; }

class SegmentStoreTest : public ::testing::Test {
 protected:
  void write(const std::string& relative, const std::string& bytes = "x") {
    fs::path p = base_ / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << bytes;
  }
  // Ages a directory's mtime, as if it was last changed long ago.
  void age(const std::string& relative) {
    timeval times[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};
    ASSERT_EQ(utimes((base_ / relative).c_str(), times), 0);
  }

  TempDir temp_{"store"};
  fs::path base_ = temp_.path();
};

TEST_F(SegmentStoreTest, ListsStreamsVariantsHoursAndSegmentsSkippingJunk) {
  write("db/source/2026-11-21T04/00:00.000000-2.0-full-AAAA.ts");
  write("db/source/2026-11-21T04/00:02.000000-2.0-partial-AAAB.ts", "12345");
  write("db/source/2026-11-21T04/00:04.000000-2.0-temp-0b7e3c1a.ts");
  write("db/source/2026-11-21T04/.hidden.ts");
  write("db/source/2026-11-21T04/garbage.ts");
  write("db/source/not-an-hour/x.ts");
  write("db/source/.hidden-hour/x.ts");
  write("db/720p/2026-11-21T05/00:00.000000-2.0-full-AAAA.ts");
  write("db/a-file-not-a-variant");
  write(".hidden-stream/x/y/z");
  SegmentStore store(base_.string());
  EXPECT_EQ(store.list_streams(), std::vector<std::string>{"db"});
  EXPECT_EQ(store.list_variants("db"), (std::vector<std::string>{"720p", "source"}));
  EXPECT_EQ(store.list_hours("db", "source"), std::vector<std::string>{"2026-11-21T04"});
  const HourListing& hour = *store.hour_listing("db", "source", "2026-11-21T04");
  EXPECT_EQ(as_strings(core::listed_names(hour)),
            (std::vector<std::string>{"00:00.000000-2.0-full-AAAA.ts", "00:02.000000-2.0-partial-AAAB.ts"}));
  ASSERT_EQ(hour.segments.size(), 3u);  // the temp file is a segment, not listed
  for (const auto& segment : hour.segments) {
    if (segment.name.type == core::SegmentType::Partial) {
      EXPECT_EQ(segment.size_bytes, 5) << "partials carry their size";
    }
  }
  EXPECT_EQ(hour.best.size(), 2u);
  EXPECT_TRUE(store.list_variants("nope").empty());
  EXPECT_TRUE(core::listed_names(*store.hour_listing("db", "source", "2026-11-21T09")).empty());
  EXPECT_TRUE(store.variant_exists("db", "720p"));
  EXPECT_FALSE(store.variant_exists("db", "nope"));
}

// wubloader's choice among copies of one start time needs file sizes; the store reads
// them only for those copies, and every copy keeps its own name.
TEST_F(SegmentStoreTest, DuplicateCopiesAreChosenByDurationSizeAndDecodedHash) {
  const std::string hour = "db/source/2026-11-21T04/";
  const std::string zero(43, 'A');
  std::string zero_hash = "0" + zero.substr(1), zed_hash = "z" + zero.substr(1);
  write(hour + "00:00.000000-2.0-full-" + zed_hash + ".ts", "123");
  write(hour + "00:00.000000-2.0-full-" + zero_hash + ".ts", "123");  // same size: '0' decodes higher
  write(hour + "00:02.000000-2.0-full-" + zero_hash + ".ts", "12");
  write(hour + "00:02.000000-2.0-full-" + zed_hash + ".ts", "1234");  // the largest file
  write(hour + "00:04.000000-2.0-full-" + zed_hash + ".ts", "1");     // the only one: never stat'ed
  write(hour + "00:06.000000-2.0-partial-AAAA.ts", "1");
  write(hour + "00:06.000000-2.0-suspect-AAAB.ts", "12");
  SegmentStore store(base_.string());
  const HourListing& listing = *store.hour_listing("db", "source", "2026-11-21T04");
  ASSERT_EQ(listing.best.size(), 4u);
  EXPECT_EQ(listing.best[0]->file_name, "00:00.000000-2.0-full-" + zero_hash + ".ts");
  EXPECT_EQ(listing.best[1]->file_name, "00:02.000000-2.0-full-" + zed_hash + ".ts");
  EXPECT_EQ(listing.best[1]->size_bytes, 4);
  EXPECT_EQ(listing.best[2]->size_bytes, -1) << "a lone full copy costs no stat";
  EXPECT_EQ(listing.best[3]->file_name, "00:06.000000-2.0-suspect-AAAB.ts");
  EXPECT_EQ(listing.segments.size(), 7u);
  for (const auto& segment : listing.segments) EXPECT_FALSE(segment.file_name.empty());
}

TEST_F(SegmentStoreTest, WarmDayLongLookupReadsNoDirectory) {
  auto start = *core::parse_time("2026-11-21T00:00:00Z");
  for (int h = 0; h < 24; ++h) {
    std::string hour = core::format_hour(start + h * core::kMicrosPerHour);
    write("db/source/" + hour + "/00:00.000000-2.0-full-AAAA.ts");
    age("db/source/" + hour);
  }
  age("db/source");
  SegmentStore store(base_.string());
  auto first = store.best_segments("db", "source", start, start + 24 * core::kMicrosPerHour);
  std::uint64_t scans = store.stats().directory_scans;
  EXPECT_GE(scans, 24u);
  auto second = store.best_segments("db", "source", start, start + 24 * core::kMicrosPerHour);
  EXPECT_EQ(store.stats().directory_scans, scans) << "a warm lookup re-read directories";
  EXPECT_EQ(first.size(), second.size());

  // A change is seen at once, from inotify's word: the directory is not read again.
  std::string hour3 = core::format_hour(start + 3 * core::kMicrosPerHour);
  write("db/source/" + hour3 + "/00:02.000000-2.0-full-AAAB.ts");
  EXPECT_EQ(core::listed_names(*store.hour_listing("db", "source", hour3)).size(), 2u);
  EXPECT_EQ(store.stats().directory_scans, scans);
}

TEST_F(SegmentStoreTest, AWatchedHourFollowsWhatOtherProgramsDoWithoutRereading) {
  const std::string hour = "db/source/2026-11-21T04/";
  write(hour + "00:00.000000-2.0-full-AAAA.ts");
  write(hour + "00:02.000000-2.0-full-AAAB.ts");
  SegmentStore store(base_.string());
  auto names = [&] { return as_strings(core::listed_names(*store.hour_listing("db", "source", "2026-11-21T04"))); };
  ASSERT_EQ(names().size(), 2u);
  std::uint64_t version = store.hour_listing("db", "source", "2026-11-21T04")->version;
  // rsync: a hidden temp file, renamed into place.
  write(hour + ".00:04.000000-2.0-full-AAAC.ts.Xy12");
  EXPECT_EQ(names().size(), 2u) << "a hidden file is listed";
  fs::rename(base_ / (hour + ".00:04.000000-2.0-full-AAAC.ts.Xy12"), base_ / (hour + "00:04.000000-2.0-full-AAAC.ts"));
  EXPECT_EQ(names(), (std::vector<std::string>{"00:00.000000-2.0-full-AAAA.ts", "00:02.000000-2.0-full-AAAB.ts",
                                               "00:04.000000-2.0-full-AAAC.ts"}));
  EXPECT_NE(store.hour_listing("db", "source", "2026-11-21T04")->version, version);
  // An operator removes one, and plants a symlink that must never be listed.
  fs::remove(base_ / (hour + "00:00.000000-2.0-full-AAAA.ts"));
  fs::create_symlink("/etc/passwd", base_ / (hour + "00:06.000000-2.0-full-AAAD.ts"));
  EXPECT_EQ(names(), (std::vector<std::string>{"00:02.000000-2.0-full-AAAB.ts", "00:04.000000-2.0-full-AAAC.ts"}));
  // A new hour appears in the variant's hours, and a removed one goes.
  write("db/source/2026-11-21T05/00:00.000000-2.0-full-AAAE.ts");
  EXPECT_EQ(store.list_hours("db", "source"), (std::vector<std::string>{"2026-11-21T04", "2026-11-21T05"}));
  EXPECT_EQ(core::listed_names(*store.hour_listing("db", "source", "2026-11-21T05")).size(), 1u);
  fs::remove_all(base_ / "db/source/2026-11-21T05");
  EXPECT_EQ(store.list_hours("db", "source"), std::vector<std::string>{"2026-11-21T04"});
  EXPECT_TRUE(core::listed_names(*store.hour_listing("db", "source", "2026-11-21T05")).empty());
  EXPECT_EQ(store.stats().directory_scans, 3u) << "the variant, hour 04 and hour 05 once each";
  EXPECT_GT(store.stats().changes, 0u);
}

TEST_F(SegmentStoreTest, AnHoursDigestIsItsSortedNamesAndFollowsChanges) {
  const std::string hour = "db/source/2026-11-21T04/";
  write(hour + "00:02.000000-2.0-full-AAAB.ts");
  write(hour + "00:00.000000-2.0-full-AAAA.ts");
  SegmentStore store(base_.string());
  EXPECT_FALSE(store.hour_digest("db", "source", "2026-11-21T04")) << "not read yet: no digest at hand";
  store.hour_listing("db", "source", "2026-11-21T04");
  auto digest = store.hour_digest("db", "source", "2026-11-21T04");
  ASSERT_TRUE(digest);
  EXPECT_EQ(digest->count, 2);
  // sha256("00:00.000000-2.0-full-AAAA.ts\n00:02.000000-2.0-full-AAAB.ts\n"), as sha256sum says it.
  EXPECT_EQ(digest->sha256, digest_names("00:00.000000-2.0-full-AAAA.ts\n00:02.000000-2.0-full-AAAB.ts\n").sha256);
  EXPECT_EQ(digest_names("").sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(digest_names("a\n").sha256, "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7");
  write(hour + "00:04.000000-2.0-full-AAAC.ts");
  auto after = store.hour_digest("db", "source", "2026-11-21T04");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->count, 3);
  EXPECT_NE(after->sha256, digest->sha256);
  EXPECT_EQ(store.stats().directory_scans, 1u) << "the digest followed inotify, no directory read";
}

TEST_F(SegmentStoreTest, WithoutWatchesRecentlyChangedDirectoriesAreNotTrusted) {
  // Two files landing within one mtime tick must both be seen, so a directory
  // changed in the last second is read again on every lookup.
  write("db/source/2026-11-21T04/00:00.000000-2.0-full-AAAA.ts");
  SegmentStore store(base_.string(), 512, false);
  EXPECT_EQ(core::listed_names(*store.hour_listing("db", "source", "2026-11-21T04")).size(), 1u);
  write("db/source/2026-11-21T04/00:02.000000-2.0-full-AAAB.ts");
  store.new_snapshot();
  EXPECT_EQ(core::listed_names(*store.hour_listing("db", "source", "2026-11-21T04")).size(), 2u);
  EXPECT_EQ(store.stats().directory_scans, 2u);
}

TEST_F(SegmentStoreTest, RangeVersionMovesWhenAnyHourChanges) {
  auto start = *core::parse_time("2026-11-21T04:00:00Z");
  auto end = start + 2 * core::kMicrosPerHour;
  write("db/source/2026-11-21T04/00:00.000000-2.0-full-AAAA.ts");
  write("db/source/2026-11-21T05/00:00.000000-2.0-full-AAAA.ts");
  age("db/source/2026-11-21T04");
  age("db/source/2026-11-21T05");
  SegmentStore store(base_.string());
  std::uint64_t v1 = store.range_version("db", "source", start, end);
  store.new_snapshot();
  EXPECT_EQ(store.range_version("db", "source", start, end), v1) << "nothing changed";
  write("db/source/2026-11-21T05/00:02.000000-2.0-full-AAAB.ts");
  store.new_snapshot();
  std::uint64_t v2 = store.range_version("db", "source", start, end);
  EXPECT_NE(v2, v1);
  write("db/source/2026-11-21T06/00:00.000000-2.0-full-AAAA.ts");  // a new hour in range
  store.new_snapshot();
  EXPECT_NE(store.range_version("db", "source", start, end), v2);
}

TEST_F(SegmentStoreTest, WithoutWatchesARecentDirectoryIsReadOncePerSnapshot) {
  write("db/source/2026-11-21T04/00:00.000000-2.0-full-AAAA.ts");
  SegmentStore store(base_.string(), 512, false);
  store.new_snapshot();
  store.hour_listing("db", "source", "2026-11-21T04");
  store.hour_listing("db", "source", "2026-11-21T04");
  EXPECT_EQ(store.stats().directory_scans, 1u);
  store.new_snapshot();
  store.hour_listing("db", "source", "2026-11-21T04");
  EXPECT_EQ(store.stats().directory_scans, 2u);
}

// A selection is held across later store calls (a cut plans, then works for seconds
// while other requests rescan and evict): its segments must stay whole.
TEST_F(SegmentStoreTest, ASelectionOutlivesRescansAndEvictions) {
  write("db/source/2026-11-21T04/00:00.000000-2.0-full-AAAA.ts");
  write("db/source/2026-11-21T04/00:02.000000-2.0-full-AAAB.ts");
  write("db/source/2026-11-21T05/00:00.000000-2.0-full-AAAC.ts");
  SegmentStore store(base_.string(), 1);  // room for one hour: every other lookup evicts
  auto start = *core::parse_time("2026-11-21T04:00:00Z");
  auto held = store.best_segments("db", "source", start, start + core::kMicrosPerHour + 2 * core::kMicrosPerSecond);
  ASSERT_EQ(held.size(), 4u);                                      // 04:00, 04:02, a hole, 05:00
  write("db/source/2026-11-21T04/00:04.000000-2.0-full-AAAD.ts");  // a rescan replaces hour 04
  for (int round = 0; round < 3; ++round) {
    store.new_snapshot();
    store.hour_listing("db", "source", "2026-11-21T04");
    store.hour_listing("db", "source", "2026-11-21T05");
  }
  EXPECT_EQ(held[0]->file_name, "00:00.000000-2.0-full-AAAA.ts");
  EXPECT_EQ(held[1]->file_name, "00:02.000000-2.0-full-AAAB.ts");
  EXPECT_EQ(held[2], nullptr);
  EXPECT_EQ(held[3]->file_name, "00:00.000000-2.0-full-AAAC.ts");
  EXPECT_EQ(held[3]->hour, "2026-11-21T05");
}

TEST_F(SegmentStoreTest, CacheIsBounded) {
  for (int h = 0; h < 10; ++h) {
    write("db/source/2026-11-21T0" + std::to_string(h) + "/00:00.000000-2.0-full-AAAA.ts");
    age("db/source/2026-11-21T0" + std::to_string(h));
  }
  SegmentStore store(base_.string(), 4);
  for (int round = 0; round < 2; ++round) {
    for (int h = 0; h < 10; ++h) store.hour_listing("db", "source", "2026-11-21T0" + std::to_string(h));
  }
  EXPECT_EQ(store.stats().directory_scans, 20u) << "with room for 4 hours, cycling 10 rereads all";
}

}  // namespace segment_store_test
}  // namespace wubd::store
