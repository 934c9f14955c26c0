// The store's write side on a real temporary directory and a real loop: temp names
// while writing, the final name carries the sha256 of the bytes, the file work runs in
// libuv's threadpool, and nothing is left behind.
#include "wubd/store/segment_writer.h"

#include <gtest/gtest.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "io/loop_test.h"
#include "temp_dir.h"
#include "wubd/store/disk_trouble.h"

namespace wubd::store {
namespace segment_writer_test {

namespace fs = std::filesystem;

class SegmentWriterTest : public io::LoopTest {
 protected:
  std::unique_ptr<SegmentWriter> writer(core::Micros start) {
    return std::make_unique<SegmentWriter>(&loop_, base_.string(), "s", "v", start, 2'000'000);
  }

  // Runs the loop until the commit is over; its outcome.
  core::Result<std::string> wait(const std::function<void(FileWriter::Done)>& commit) {
    std::optional<core::Result<std::string>> outcome;
    commit([&](core::Result<std::string> result) { outcome = std::move(result); });
    if (!spin_until([&] { return outcome.has_value(); })) return core::make_error("timed out");
    return *outcome;
  }
  core::Result<std::string> commit(SegmentWriter& w, core::SegmentType type) {
    return wait([&](FileWriter::Done done) { w.commit(type, std::move(done)); });
  }
  // Lets queued removals finish.
  void settle() { spin_for(50); }

  // The files now; the threadpool may rename one while they are listed, so entries
  // that vanish are skipped rather than thrown over.
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(base_, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code type_ec;
      if (it->is_regular_file(type_ec)) names.push_back(it->path().lexically_relative(base_).string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  const core::Micros start_ = *core::parse_time("2026-11-21T04:05:06.5Z");
  TempDir temp_{"writer"};
  fs::path base_ = temp_.path();
};

TEST_F(SegmentWriterTest, TempWhileWritingThenFullWithTheHashOfTheBytes) {
  auto w = std::make_unique<SegmentWriter>(&loop_, base_.string(), "s", "source", start_, 2'000'000);
  std::string big(3 * SegmentWriter::kWriteBufferBytes + 5, 'z');
  ASSERT_TRUE(w->write("abc"));
  ASSERT_TRUE(w->write(big));
  ASSERT_TRUE(spin_until([&] { return files().size() == 1; }));  // created off the loop
  EXPECT_NE(files()[0].find("s/source/2026-11-21T04/05:06.500000-2.0-temp-"), std::string::npos) << files()[0];
  auto path = commit(*w, core::SegmentType::Full);
  ASSERT_TRUE(path) << path.error().message;
  std::ifstream in(*path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  EXPECT_EQ(bytes.str(), "abc" + big);
  EXPECT_EQ(w->bytes_written(), 3 + big.size());
  auto parsed = core::parse_segment_path("2026-11-21T04", fs::path(*path).filename().string());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->type, core::SegmentType::Full);
  EXPECT_EQ(parsed->start, start_);
  EXPECT_EQ(files().size(), 1u);
}

TEST_F(SegmentWriterTest, EmptyHashAndRenameOntoTheSameName) {
  for (int i = 0; i < 2; ++i) {
    auto w = writer(start_);
    auto path = commit(*w, core::SegmentType::Full);
    ASSERT_TRUE(path) << path.error().message;  // the second one lands on the first: success
    EXPECT_NE(path->find("-full-47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU.ts"), std::string::npos) << *path;
  }
  EXPECT_EQ(files().size(), 1u);
}

TEST_F(SegmentWriterTest, VerifiedCommitKeepsThePeersNameOrRefusesBadBytes) {
  const std::string empty_hash = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU";
  const std::string peers_name = "05:06.500000-2.000-full-" + empty_hash + ".ts";  // spelled its way
  auto good = writer(start_);
  auto path = wait([&](FileWriter::Done done) { good->commit_verified(peers_name, empty_hash, std::move(done)); });
  ASSERT_TRUE(path) << path.error().message;
  EXPECT_EQ(fs::path(*path).filename().string(), peers_name);
  auto corrupt = writer(start_ + 2'000'000);
  ASSERT_TRUE(corrupt->write("not empty"));
  auto refused = wait([&](FileWriter::Done done) {
    corrupt->commit_verified("05:08.500000-2.0-full-" + empty_hash + ".ts", empty_hash, std::move(done));
  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, SegmentWriter::kHashMismatch);
  EXPECT_NE(refused.error().message.find("hash mismatch"), std::string::npos);
  EXPECT_EQ(files().size(), 1u);  // the corrupt bytes are gone, temp included
}

TEST_F(SegmentWriterTest, PartialDiscardAndDestructionLeaveNoTemp) {
  {
    auto kept = writer(start_);
    ASSERT_TRUE(kept->write("half"));
    ASSERT_TRUE(commit(*kept, core::SegmentType::Partial));
    auto dropped = writer(start_ + 2'000'000);
    ASSERT_TRUE(dropped->write("lost"));
    dropped->discard();
    EXPECT_FALSE(dropped->write("more")) << "a write after the end";
    auto abandoned = writer(start_ + 4'000'000);
    ASSERT_TRUE(abandoned->write("abandoned"));
    ASSERT_TRUE(spin_until([&] { return !abandoned->busy(); }));  // its temp file exists
  }
  settle();
  auto names = files();
  ASSERT_EQ(names.size(), 1u);
  EXPECT_NE(names[0].find("-partial-"), std::string::npos);
}

TEST_F(SegmentWriterTest, AWriterDestroyedWhileCommittingStillLandsItsFile) {
  {
    auto w = writer(start_);
    ASSERT_TRUE(w->write(std::string(SegmentWriter::kWriteBufferBytes * 2, 'x')));
    w->commit(core::SegmentType::Full, [](core::Result<std::string>) { ADD_FAILURE() << "told a destroyed writer"; });
  }
  ASSERT_TRUE(spin_until([&] {
    auto names = files();
    return names.size() == 1 && names[0].find("-full-") != std::string::npos;
  }));
}

TEST_F(SegmentWriterTest, ASymlinkOnTheWayFailsTheCommitWithTheReason) {
  fs::create_directories(base_ / "elsewhere");
  fs::create_directories(base_ / "s");
  fs::create_directory_symlink(base_ / "elsewhere", base_ / "s/v");
  auto w = writer(start_);
  ASSERT_TRUE(spin_until([&] { return !w->busy(); }));
  EXPECT_FALSE(w->write("bytes")) << "the failed create is sticky";
  auto path = commit(*w, core::SegmentType::Full);
  ASSERT_FALSE(path);
  EXPECT_NE(path.error().message.find("symbolic link"), std::string::npos) << path.error().message;
  EXPECT_TRUE(fs::is_empty(base_ / "elsewhere"));
}

TEST_F(SegmentWriterTest, ADiskThatDoesNotKeepUpFailsTheWriteAndKeepsNothing) {
  // Every threadpool thread held (more holders than any pool has threads): the writer's
  // file work waits behind them, as it would behind writes to a stalled disk.
  std::atomic<bool> release{false};
  io::TaskGroup holders(&loop_);
  int held = 0;
  for (int i = 0; i < 128; ++i) {
    ASSERT_EQ(holders.run(
                  [&release] {
                    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                  },
                  [&held] { ++held; }),
              0);
  }
  auto w = writer(start_);
  std::string chunk(1 << 20, 'x');
  core::Result<bool> written = true;
  for (std::size_t i = 0; written && i <= FileWriter::kMaxQueuedBytes / chunk.size(); ++i) written = w->write(chunk);
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().message.find("not keeping up"), std::string::npos) << written.error().message;
  EXPECT_FALSE(w->write("x")) << "the refusal is sticky";
  release = true;
  auto path = commit(*w, core::SegmentType::Full);
  ASSERT_FALSE(path) << "a file missing bytes was kept: " << *path;
  EXPECT_NE(path.error().message.find("not keeping up"), std::string::npos) << path.error().message;
  ASSERT_TRUE(spin_until([&] { return held == 128; }));
  EXPECT_TRUE(files().empty());
}

TEST_F(SegmentWriterTest, StaleTempFilesAreRemovedYoungOnesKept) {
  fs::create_directories(base_ / "s/v/2026-11-21T04");
  auto temp = [&](const char* name, long age_s) {
    fs::path p = base_ / "s/v/2026-11-21T04" / name;
    std::ofstream(p) << "x";
    timeval times[2] = {{time(nullptr) - age_s, 0}, {time(nullptr) - age_s, 0}};
    utimes(p.c_str(), times);
  };
  temp("00:00.000000-2.0-temp-3f1c9a2e-0000-4000-8000-000000000001.ts", 600);
  temp("00:02.000000-2.0-temp-3f1c9a2e-0000-4000-8000-000000000002.ts", 10);
  temp("00:04.000000-2.0-full-47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU.ts", 600);
  temp("notes-temp-.txt", 600);
  EXPECT_EQ(remove_stale_temp_files(base_, 300 * core::kMicrosPerSecond).size(), 1u);
  auto names = files();
  EXPECT_EQ(names.size(), 3u);
  for (const auto& name : names) EXPECT_EQ(name.find("00:00.000000"), std::string::npos) << name;
}

TEST_F(SegmentWriterTest, ASweepSparesFilesBeingWrittenAndHoursNotRecentlyTouched) {
  auto w = writer(core::parse_time("2026-11-21T04:00:00").value());
  ASSERT_TRUE(w->write("bytes"));
  ASSERT_TRUE(spin_until([&] { return !w->busy(); }));
  auto age = [](const fs::path& p, long age_s) {
    timeval times[2] = {{time(nullptr) - age_s, 0}, {time(nullptr) - age_s, 0}};
    utimes(p.c_str(), times);
  };
  fs::path live = w->temp_path();
  age(live, 600);  // a download stalled for ten minutes: still ours
  fs::create_directories(base_ / "s/v/2026-11-20T04");
  fs::path old_hour_temp = base_ / "s/v/2026-11-20T04/00:00.000000-2.0-temp-3f1c9a2e-0000-4000-8000-000000000009.ts";
  std::ofstream(old_hour_temp) << "x";
  age(old_hour_temp, 600);
  age(base_ / "s/v/2026-11-20T04", 7200);  // an hour nobody wrote in for two hours
  EXPECT_EQ(FileWriter::being_written().count(live.string()), 1u);

  TempSweepScope scope{3600 * core::kMicrosPerSecond, FileWriter::being_written()};
  EXPECT_TRUE(remove_stale_temp_files(base_, 300 * core::kMicrosPerSecond, scope).empty());
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(old_hour_temp));
  // The start-time sweep walks every hour; the live writer is still spared when named.
  auto removed = remove_stale_temp_files(base_, 300 * core::kMicrosPerSecond, {0, FileWriter::being_written()});
  EXPECT_EQ(removed, std::vector<std::string>{old_hour_temp.string()});
  EXPECT_TRUE(fs::exists(live));
  ASSERT_TRUE(commit(*w, core::SegmentType::Full));
  EXPECT_EQ(FileWriter::being_written().count(live.string()), 0u);
}

// The disk's trouble is said once a stream until writing resumes; a file whose bytes
// were all written before the disk began to fail, committed after, is not a resumption
// (CI once saw "cannot write segments" said twice, 0.3 s apart, for that reason).
TEST(DiskTroubleTest, OnlyAFileBegunAfterTheFailureEndsIt) {
  core::MetricsRegistry registry;
  DiskTrouble disk(registry.counter("test_write_errors_total", "test"), log::Module::Downloader, "segments");
  const DiskTrouble::Ticket before = disk.ticket("s");
  EXPECT_FALSE(disk.failing("s"));
  disk.failed("s", core::Error{500, "cannot write: Input/output error", EIO});
  EXPECT_TRUE(disk.failing("s"));
  disk.wrote("s", before);  // written before the failure, committed after
  EXPECT_TRUE(disk.failing("s"));
  disk.wrote("t", disk.ticket("t"));  // another stream's success changes nothing here
  EXPECT_TRUE(disk.failing("s"));
  const DiskTrouble::Ticket after = disk.ticket("s");
  disk.wrote("s", after);
  EXPECT_FALSE(disk.failing("s"));
}

}  // namespace segment_writer_test
}  // namespace wubd::store
