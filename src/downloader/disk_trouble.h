#pragma once

#include <map>
#include <string>

#include "wubd/core/metrics.h"
#include "wubd/core/result.h"

// Errors of the disk (full, read-only, failing) said once per stream, not once per
// segment: while the disk refuses writes, every segment of every variant fails the
// same way, and a line for each would bury the one that matters. The getters keep
// retrying, so recording resumes by itself when there is room again; that is said
// once too.
namespace wubd::downloader {

class DiskTrouble {
 public:
  explicit DiskTrouble(core::CounterFamily& write_errors) : write_errors_(write_errors) {}

  // A write of `stream` failed with error.os_error (which must be set). noexcept: it
  // is called while getters are destroyed (their attempts' partials fail to commit).
  void failed(const std::string& stream, const core::Error& error) noexcept;
  // A segment of `stream` was committed.
  void wrote(const std::string& stream) noexcept;

 private:
  core::CounterFamily& write_errors_;   // {stream, error}
  std::map<std::string, int> failing_;  // stream → the errno it is failing with
};

}  // namespace wubd::downloader
