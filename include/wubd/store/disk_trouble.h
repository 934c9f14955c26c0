#pragma once

#include <cstdint>
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

  // Which failures of `stream` a file began after: taken when its writer is made,
  // handed back to wrote() when it is committed.
  using Ticket = std::uint64_t;
  Ticket ticket(const std::string& stream) const;
  // A write of `stream` failed with error.os_error (which must be set). noexcept: it
  // is called while getters are destroyed (their attempts' partials fail to commit).
  void failed(const std::string& stream, const core::Error& error) noexcept;
  // A file of `stream`, begun at `ticket`, was committed. Writing has resumed only if
  // no write failed since that file began: one whose bytes were all written before
  // the disk began to fail proves nothing, and must not make the failure be said
  // again at the next failed write.
  void wrote(const std::string& stream, Ticket ticket) noexcept;
  // Whether the failure of `stream`'s writes has been said and not yet their return.
  bool failing(const std::string& stream) const { return failing_.count(stream) != 0; }

 private:
  core::CounterFamily& write_errors_;  // {stream, error}
  log::Module module_;
  std::string what_;
  std::map<std::string, int> failing_;      // stream → the errno it is failing with
  std::map<std::string, Ticket> failures_;  // stream → failed writes so far
};

}  // namespace wubd::store
