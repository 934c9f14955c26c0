// The store's index on a real temporary directory and a real loop: every hour read in
// the threadpool, newest first; lookups after it read no directory; a lookup that
// comes first reads the hour itself; a new hour is read as soon as inotify says so;
// changes made while an hour is being read are not lost.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "io/loop_test.h"
#include "temp_dir.h"
#include "wubd/store/segment_store.h"

namespace wubd::store {
namespace store_index_test {

namespace fs = std::filesystem;

std::vector<std::string> as_strings(const std::vector<std::string_view>& views) { return {views.begin(), views.end()}; }

class StoreIndexTest : public io::LoopTest {
 protected:
  void TearDown() override {
    if (store_) store_->stop_index();
    store_.reset();
    io::LoopTest::TearDown();
  }

  void write(const std::string& relative) {
    fs::path p = base_ / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "x";
  }
  static std::string hour_name(int h) { return core::format_hour(kStart + h * core::kMicrosPerHour); }
  static std::string segment(int i) {
    return "00:" + std::string(i < 5 ? "0" : "") + std::to_string(2 * i) + ".000000-2.0-full-AAA" + char('A' + i) +
           ".ts";
  }
  // `hours` hours of `files` segments for s/v, and one hour of chat.
  void lay_out(int hours, int files) {
    for (int h = 0; h < hours; ++h) {
      for (int i = 0; i < files; ++i) write("s/v/" + hour_name(h) + "/" + segment(i));
    }
  }
  bool wait_indexed() {
    return spin_until([&] { return store_->index_progress().done; });
  }

  static constexpr core::Micros kStart = 1'795'000'000'000'000;  // 2026-11-18T...
  TempDir temp_{"index"};
  fs::path base_ = temp_.path();
  std::unique_ptr<SegmentStore> store_;
};

TEST_F(StoreIndexTest, AfterTheIndexIsBuiltNoLookupReadsADirectory) {
  lay_out(30, 4);
  store_ = std::make_unique<SegmentStore>(base_.string());
  store_->start_index(&loop_);
  ASSERT_TRUE(wait_indexed());
  const IndexProgress& progress = store_->index_progress();
  EXPECT_EQ(progress.hours_total, 30u);
  EXPECT_EQ(progress.hours_indexed, 30u);
  EXPECT_EQ(progress.files, 120u);
  std::uint64_t scans = store_->stats().directory_scans;
  auto all =
      store_->best_segments("s", "v", kStart - kStart % core::kMicrosPerHour, kStart + 31 * core::kMicrosPerHour);
  std::size_t found = 0;
  for (const auto& s : all) found += s != nullptr;
  EXPECT_EQ(found, 120u);
  for (int h = 0; h < 30; ++h) EXPECT_EQ(core::listed_names(*store_->hour_listing("s", "v", hour_name(h))).size(), 4u);
  EXPECT_EQ(store_->stats().directory_scans, scans) << "a lookup read a directory the index holds";
}

TEST_F(StoreIndexTest, TheNewestHoursAreIndexedUpToTheListingsBound) {
  lay_out(12, 1);
  store_ = std::make_unique<SegmentStore>(base_.string(), 8);
  store_->start_index(&loop_);
  ASSERT_TRUE(wait_indexed());
  EXPECT_EQ(store_->index_progress().hours_total, 8u);
  std::uint64_t scans = store_->stats().directory_scans;
  for (int h = 4; h < 12; ++h) store_->hour_listing("s", "v", hour_name(h));
  EXPECT_EQ(store_->stats().directory_scans, scans) << "the newest eight are indexed";
  store_->hour_listing("s", "v", hour_name(0));
  EXPECT_EQ(store_->stats().directory_scans, scans + 1) << "an older one is read when asked for";
}

TEST_F(StoreIndexTest, ALookupBeforeTheIndexReachesAnHourReadsItItself) {
  lay_out(10, 3);
  store_ = std::make_unique<SegmentStore>(base_.string());
  store_->start_index(&loop_);
  // Newest first: hour 0 is read last, so this lookup gets there before the index.
  EXPECT_EQ(core::listed_names(*store_->hour_listing("s", "v", hour_name(0))).size(), 3u);
  ASSERT_TRUE(wait_indexed());
  EXPECT_EQ(core::listed_names(*store_->hour_listing("s", "v", hour_name(0))).size(), 3u);
  EXPECT_EQ(store_->index_progress().hours_indexed, 10u);
}

TEST_F(StoreIndexTest, ANewHourIsIndexedAsSoonAsItAppearsAndFollowed) {
  lay_out(2, 2);
  store_ = std::make_unique<SegmentStore>(base_.string());
  store_->start_index(&loop_);
  ASSERT_TRUE(wait_indexed());
  write("s/v/" + hour_name(2) + "/" + segment(0));  // a downloader starting a new hour
  ASSERT_TRUE(spin_until([&] {
    store_->read_changes();  // the daemon polls the inotify descriptor; here the test does
    return store_->index_progress().hours_total == 3 && store_->index_progress().done;
  }));
  std::uint64_t scans = store_->stats().directory_scans;
  write("s/v/" + hour_name(2) + "/" + segment(1));
  EXPECT_EQ(core::listed_names(*store_->hour_listing("s", "v", hour_name(2))).size(), 2u);
  EXPECT_EQ(store_->list_hours("s", "v").size(), 3u);
  EXPECT_EQ(store_->stats().directory_scans, scans);
}

TEST_F(StoreIndexTest, AStreamThatAppearsAfterStartIsReadOffTheLoopLevelByLevel) {
  store_ = std::make_unique<SegmentStore>(base_.string());
  store_->start_index(&loop_);  // an empty archive: nothing to read yet
  ASSERT_TRUE(wait_indexed());
  write("s/v/" + hour_name(0) + "/" + segment(0));  // a downloader's first segment of a new stream
  write("emotes/x.png");                            // extras are never a stream
  ASSERT_TRUE(spin_until([&] {
    store_->read_changes();
    return store_->index_progress().hours_total == 1 && store_->index_progress().done;
  }));
  std::uint64_t scans = store_->stats().directory_scans;
  EXPECT_EQ(store_->list_streams(), std::vector<std::string>{"s"});
  EXPECT_EQ(store_->list_variants("s"), std::vector<std::string>{"v"});
  EXPECT_EQ(store_->list_hours("s", "v"), std::vector<std::string>{hour_name(0)});
  auto first = store_->hour_listing("s", "v", hour_name(0));
  EXPECT_EQ(as_strings(core::listed_names(*first)), std::vector<std::string>{segment(0)});
  EXPECT_EQ(store_->stats().directory_scans, scans) << "a lookup read a directory the index holds";
}

TEST_F(StoreIndexTest, ChangesWhileAnHourIsReadAreKept) {
  lay_out(1, 2);
  store_ = std::make_unique<SegmentStore>(base_.string());
  store_->start_index(&loop_);  // the hour is watched, and read in the threadpool
  // The read is over before the loop turns again to take its result: these changes
  // come after it, and only inotify tells of them.
  wait_for_threadpool();
  write("s/v/" + hour_name(0) + "/" + segment(5));
  fs::remove(base_ / ("s/v/" + hour_name(0) + "/" + segment(0)));
  ASSERT_TRUE(spin_until([&] {
    store_->read_changes();  // the events are read before the read's result is taken
    return store_->index_progress().done;
  }));
  auto listing = store_->hour_listing("s", "v", hour_name(0));
  EXPECT_EQ(as_strings(core::listed_names(*listing)), (std::vector<std::string>{segment(1), segment(5)}));
}

TEST_F(StoreIndexTest, TheNewestHoursAreListedInTheThreadpoolWithTheSizesThatChoose) {
  lay_out(4, 3);
  // Two full copies of one segment in the newest hour: the larger is the better one,
  // so the listing made in the threadpool must have asked for their sizes.
  std::string bigger = "00:00.000000-2.0-full-AAAB.ts";
  write("s/v/" + hour_name(3) + "/" + bigger);
  std::ofstream(base_ / ("s/v/" + hour_name(3) + "/" + bigger)) << "a longer file";
  store_ = std::make_unique<SegmentStore>(base_.string());
  store_->start_index(&loop_, 2);
  ASSERT_TRUE(wait_indexed());
  auto newest = store_->hour_listing("s", "v", hour_name(3));
  ASSERT_EQ(newest->best.size(), 3u);
  EXPECT_EQ(newest->best[0]->file_name, bigger);
  EXPECT_EQ(newest->best[0]->size_bytes, 13);
  EXPECT_EQ(newest->segments.size(), 4u);
  for (int h = 0; h < 3; ++h) EXPECT_EQ(store_->hour_listing("s", "v", hour_name(h))->best.size(), 3u);
}

TEST_F(StoreIndexTest, ManyChangesToAnHourAreMergedIntoItsNames) {
  lay_out(1, 2);
  store_ = std::make_unique<SegmentStore>(base_.string());
  store_->start_index(&loop_);
  ASSERT_TRUE(wait_indexed());
  // More changes than the store keeps before merging them on its own: a backfill of
  // most of an hour, and a few files removed again.
  std::vector<std::string> expected = {segment(0), segment(1)};
  for (int i = 0; i < 600; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "%02d:%02d.000000-2.0-full-AAAA.ts", 10 + i / 30, (2 * i) % 60);
    write("s/v/" + hour_name(0) + "/" + name);
    if (i % 100 == 7) {
      fs::remove(base_ / ("s/v/" + hour_name(0) + "/" + name));
    } else {
      expected.emplace_back(name);
    }
    if (i % 50 == 0) store_->read_changes();
  }
  std::uint64_t scans = store_->stats().directory_scans;
  std::sort(expected.begin(), expected.end());
  auto listing = store_->hour_listing("s", "v", hour_name(0));
  EXPECT_EQ(as_strings(core::listed_names(*listing)), expected);
  EXPECT_EQ(store_->stats().directory_scans, scans) << "inotify's changes, not a directory read";
  std::string text;
  for (const std::string& name : expected) text += name + "\n";
  auto digest = store_->hour_digest("s", "v", hour_name(0));
  ASSERT_TRUE(digest);
  EXPECT_EQ(digest->sha256, digest_names(text).sha256);
  EXPECT_EQ(digest->count, std::int64_t(expected.size()));
}

}  // namespace store_index_test
}  // namespace wubd::store
