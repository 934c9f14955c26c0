#pragma once

#include <map>
#include <string>

#include "wubd/core/metrics.h"
#include "wubd/core/result.h"

#include "wubd/log/log.h"

// Errors of the disk (full, read-only, failing) said once per stream, not once per
// file: while the disk refuses writes, every segment of every variant fails the same
// way, and a line for each would bury the one that matters. The writers keep retrying
// (the downloader's getters, the backfiller's next pass), so writing resumes by itself
// when the disk can write again; that is said once too.
namespace wubd::store {

class DiskTrouble {
 public:
  // `what` names the files in the lines ("segments", "backfilled files").
  DiskTrouble(core::CounterFamily& write_errors, log::Module module, std::string what)
      : write_errors_(write_errors), module_(module), what_(std::move(what)) {}

  // A write of `stream` failed with error.os_error (which must be set). noexcept: it
  // is called while getters are destroyed (their attempts' partials fail to commit).
  void failed(const std::string& stream, const core::Error& error) noexcept;
  // A file of `stream` was committed.
  void wrote(const std::string& stream) noexcept;

 private:
  core::CounterFamily& write_errors_;  // {stream, error}
  log::Module module_;
  std::string what_;
  std::map<std::string, int> failing_;  // stream → the errno it is failing with
};

}  // namespace wubd::store
