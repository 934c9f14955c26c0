#pragma once

#include <string>

#include <uv.h>

#include "wubd/core/metrics.h"
#include "wubd/core/time.h"
#include "wubd/io/task_group.h"
#include "wubd/io/timer.h"

// Removes stale temp files while the node runs, not only at start: a process that
// crash-loops (or a wubloader beside us that does) leaves a temp file per restart, and
// a restart sooner than the max age never removes them. Every `interval` the hour
// directories touched lately are swept in the threadpool; temp files this process is
// still writing are never removed, however long their download has stalled.
namespace wubd::store {

class TempSweeper {
 public:
  TempSweeper(uv_loop_t* loop, std::string base_dir, core::Micros max_age, core::MetricsRegistry& metrics);
  void start();

  // Half the max age, between 1 s and 5 min: a stale file lives at most ~1.5x max age.
  static core::Micros interval_for(core::Micros max_age);

 private:
  void sweep();

  std::string base_dir_;
  core::Micros max_age_;
  core::Micros interval_;
  core::CounterFamily& removed_;
  io::Timer timer_;
  io::TaskGroup tasks_;
  bool sweeping_ = false;
};

}  // namespace wubd::store
