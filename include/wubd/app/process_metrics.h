#pragma once

#include <cstdint>

#include <uv.h>

#include "wubd/core/metrics.h"
#include "wubd/io/timer.h"

// The process as Prometheus's client libraries report one (process_cpu_seconds_total,
// process_resident_memory_bytes, process_open_fds, …, read from /proc at each scrape),
// wubd_build_info, and how late the loop runs: a timer due every 250 ms measures how
// long past its time it fired (wubd_loop_lag_seconds), which is how long something
// held the loop.
namespace wubd::app {

struct ProcessSample {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double open_fds = 0;
  double max_fds = 0;
  double start_time_seconds = 0;  // unix time
};

// Reads this process's figures from /proc/self; fields it cannot read stay 0.
ProcessSample sample_process();

class ProcessMetrics {
 public:
  ProcessMetrics(uv_loop_t* loop, core::MetricsRegistry& metrics);

  // The worst lag seen since the last call, in seconds (for the console's status).
  double worst_recent_lag_seconds();
  double last_lag_seconds() const { return last_lag_; }

 private:
  void on_tick();

  uv_loop_t* loop_;
  core::HistogramFamily& lag_;
  io::Timer timer_;
  std::uint64_t due_ms_ = 0;
  double last_lag_ = 0;
  double worst_lag_ = 0;
  core::MetricsRegistry::Refresh refresh_;
};

}  // namespace wubd::app
