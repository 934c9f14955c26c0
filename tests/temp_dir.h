#pragma once
// A directory of its own under /tmp for a test, removed with everything in it when the
// object goes: the one temp-dir fixture of the C++ suites.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace wubd {

class TempDir {
 public:
  // `/tmp/wubd-NAME-XXXXXX`; a failure to make it fails the test that asked.
  explicit TempDir(const std::string& name) {
    std::string pattern = "/tmp/wubd-" + name + "-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "cannot make a temp dir from " << pattern;
      return;
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace wubd
