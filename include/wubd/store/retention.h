#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "wubd/core/metrics.h"
#include "wubd/core/retention_plan.h"
#include "wubd/io/beneath.h"
#include "wubd/io/task_group.h"
#include "wubd/io/timer.h"
#include "wubd/store/range_holds.h"
#include "wubd/store/segment_store.h"

// Retention (--keep-hours, --keep-bytes): every `interval` the archive's hour
// directories are measured in the threadpool (an hour whose directory has not
// changed since it was last measured is not measured again), core::plan_retention
// picks the hours to delete against what is held now, and they are deleted whole,
// one at a time, in the threadpool: each deletion logged and counted. Nothing is
// deleted before the store's index is built.
namespace wubd::store {

struct RetentionStatus {
  double last_pass = 0;                              // unix seconds; 0: none yet
  std::string last_result;                           // "3 hours deleted (5.2 GiB) in 0.12 s", "waiting for the index"
  std::map<std::string, std::int64_t> stream_bytes;  // as last measured, less what was deleted since
  std::uint64_t hours_deleted = 0;
  std::int64_t bytes_deleted = 0;
  std::vector<std::string> unmet;
};

class Retention {
 public:
  Retention(uv_loop_t* loop, SegmentStore& store, const RangeHolds& holds, core::KeepPolicy policy,
            core::Micros interval, core::MetricsRegistry& metrics);
  ~Retention();

  void start();
  // Stops at once (shutdown): a deletion in progress finishes; nothing more starts.
  void stop();
  // A pass now, unless one is running (the console's `retention run`).
  void run_now() { pass(); }

  // Whether the archive keeps `hour` (a start) of `stream`: false for an hour retention
  // would delete, so the backfiller does not copy it back from a peer.
  bool keeps(const std::string& stream, core::Micros hour) const;

  const RetentionStatus& status() const { return status_; }
  const core::KeepPolicy& policy() const { return policy_; }

 private:
  struct Measured {
    std::int64_t mtime_ns = 0;
    std::int64_t bytes = 0;
    std::int64_t files = 0;
  };
  using MeasuredHours = std::map<std::string, Measured>;  // "stream/variant/hour"
  struct Measurement {
    std::vector<core::ArchiveHour> hours;
    MeasuredHours measured;
  };
  struct Removal {
    std::int64_t files = 0;
    std::int64_t bytes = 0;
    std::string error;  // empty when the directory is gone
  };

  void pass();
  void on_measured(Measurement measurement);
  void delete_next();
  static Measurement measure(int base_fd, std::vector<core::ArchiveHour> hours, MeasuredHours previous);
  static Removal remove_hour(int base_fd, const std::string& path);

  SegmentStore& store_;
  const RangeHolds& holds_;
  core::KeepPolicy policy_;
  core::Micros interval_;
  core::CounterFamily& deleted_hours_;
  core::CounterFamily& deleted_bytes_;
  core::CounterFamily& passes_;
  core::GaugeFamily& archive_bytes_;
  std::shared_ptr<const io::OwnedFd> base_;
  io::Timer timer_;
  io::TaskGroup tasks_;
  MeasuredHours measured_;
  std::vector<core::HourDeletion> to_delete_;
  std::map<std::string, core::Micros> deleted_for_bytes_until_;  // per stream: hours before this went for bytes
  bool passing_ = false;
  bool stopped_ = false;
  std::uint64_t pass_started_ms_ = 0;
  std::uint64_t pass_deleted_ = 0;
  std::int64_t pass_bytes_ = 0;
  RetentionStatus status_;
};

}  // namespace wubd::store
