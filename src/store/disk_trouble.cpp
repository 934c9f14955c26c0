#include "wubd/store/disk_trouble.h"

#include <cstring>

#include <spdlog/spdlog.h>

#include "wubd/log/log.h"

namespace wubd::store {

DiskTrouble::Ticket DiskTrouble::ticket(const std::string& stream) const {
  auto it = failures_.find(stream);
  return it == failures_.end() ? 0 : it->second;
}

void DiskTrouble::failed(const std::string& stream, const core::Error& error) noexcept try {
  ++failures_[stream];
  const char* name = strerrorname_np(error.os_error);
  write_errors_.inc({{"stream", stream}, {"error", name ? name : std::to_string(error.os_error)}});
  auto [it, first] = failing_.emplace(stream, error.os_error);
  log::Fields fields{{"stream", stream}};
  if (first || it->second != error.os_error) {
    it->second = error.os_error;
    log::logger(module_).error("{}: cannot write {}: {} (said once; retrying, writing resumes by itself when it can)",
                               stream, what_, error.message);
  } else {
    log::logger(module_).debug("{}: still cannot write: {}", stream, error.message);
  }
} catch (...) {
  // Out of memory while saying so: the write failed all the same, and the getter retries.
}

void DiskTrouble::wrote(const std::string& stream, Ticket ticket) noexcept try {
  if (this->ticket(stream) != ticket) return;  // a write failed while this file was written
  if (failing_.erase(stream) == 0) return;
  log::Fields fields{{"stream", stream}};
  log::logger(module_).info("{}: writing {} again", stream, what_);
} catch (...) {
  // As above: only the line is lost.
}

}  // namespace wubd::store
