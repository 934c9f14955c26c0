// The archive's symlink rule on a real directory tree: nothing below the base is
// reached through a symbolic link, at any level, by openat2 or by the fallback walk.
#include "wubd/io/beneath.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

namespace wubd::io {
namespace beneath_test {

namespace fs = std::filesystem;

class BeneathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wubd-beneath-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    base_ = root_ / "base";
    fs::create_directories(base_ / "db/source/2026-11-21T04");
    std::ofstream(base_ / "db/source/2026-11-21T04/real.ts") << "inside";
    std::ofstream(root_ / "secret") << "outside";
    fs::create_directories(root_ / "elsewhere/2026-11-21T05");
    std::ofstream(root_ / "elsewhere/2026-11-21T05/x.ts") << "outside";
    // A symlink at every level: a stream, a variant, an hour and a file.
    fs::create_directory_symlink(root_ / "elsewhere", base_ / "db/linked");
    fs::create_directory_symlink(base_ / "db", base_ / "alias");  // even one pointing inside
    fs::create_directory_symlink(root_ / "elsewhere/2026-11-21T05", base_ / "db/source/2026-11-21T05");
    fs::create_symlink(root_ / "secret", base_ / "db/source/2026-11-21T04/leak.ts");
    fs::create_symlink("real.ts", base_ / "db/source/2026-11-21T04/relative.ts");
    base_fd_ = ::open(base_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(base_fd_, 0);
  }
  void TearDown() override {
    ::close(base_fd_);
    fs::remove_all(root_);
  }

  std::string read_all(int fd) {
    char buf[64];
    ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    return n > 0 ? std::string(buf, std::size_t(n)) : "";
  }

  fs::path root_, base_;
  int base_fd_ = -1;
};

const char* const kRefused[] = {
    "db/linked/2026-11-21T05/x.ts",        // a symlinked variant
    "alias/source/2026-11-21T04/real.ts",  // a symlinked stream, even into the base
    "db/source/2026-11-21T05/x.ts",        // a symlinked hour
    "db/source/2026-11-21T04/leak.ts",     // a symlinked file
    "db/source/2026-11-21T04/relative.ts",
};

TEST_F(BeneathTest, OpensRealFilesAndRefusesSymlinksAtEveryLevel) {
  for (auto open : {&open_beneath, &open_beneath_by_walking}) {
    int fd = open(base_fd_, "db/source/2026-11-21T04/real.ts", O_RDONLY, 0);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(read_all(fd), "inside");
    for (const char* path : kRefused) EXPECT_EQ(open(base_fd_, path, O_RDONLY, 0), -ELOOP) << path;
    EXPECT_LT(open(base_fd_, "../secret", O_RDONLY, 0), 0) << "leaving the base";
    EXPECT_EQ(open(base_fd_, "db/source/2026-11-21T04/missing.ts", O_RDONLY, 0), -ENOENT);
    EXPECT_EQ(open(base_fd_, "db/linked", O_PATH, 0), -ELOOP) << "O_PATH does not open a symlink itself";
    int dir = open(base_fd_, "db/source", O_RDONLY | O_DIRECTORY, 0);
    EXPECT_GE(dir, 0);
    ::close(dir);
  }
}

TEST_F(BeneathTest, StatRefusesSymlinks) {
  struct stat st;
  EXPECT_EQ(stat_beneath(base_fd_, "db/source/2026-11-21T04/real.ts", st), 0);
  EXPECT_EQ(st.st_size, 6);
  for (const char* path : kRefused) EXPECT_EQ(stat_beneath(base_fd_, path, st), -ELOOP) << path;
  EXPECT_EQ(stat_beneath(base_fd_, ".", st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST_F(BeneathTest, MakingDirectoriesNeverWritesThroughASymlink) {
  int fd = make_directories_beneath(base_fd_, "db/source/2026-11-21T06");
  ASSERT_GE(fd, 0);
  ::close(fd);
  EXPECT_TRUE(fs::is_directory(base_ / "db/source/2026-11-21T06"));
  EXPECT_EQ(make_directories_beneath(base_fd_, "db/linked/2026-11-21T07"), -ELOOP);
  EXPECT_EQ(make_directories_beneath(base_fd_, "db/source/2026-11-21T05"), -ELOOP);
  EXPECT_FALSE(fs::exists(root_ / "elsewhere/2026-11-21T07")) << "created outside the base";
  EXPECT_EQ(make_directories_beneath(base_fd_, "db/../x"), -EINVAL);
}

}  // namespace beneath_test
}  // namespace wubd::io
