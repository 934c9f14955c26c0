#include "wubd/store/temp_sweeper.h"

#include <algorithm>
#include <memory>
#include <vector>

#include <spdlog/spdlog.h>

#include "wubd/log/log.h"
#include "wubd/store/file_writer.h"
#include "wubd/store/segment_writer.h"

namespace wubd::store {

TempSweeper::TempSweeper(uv_loop_t* loop, std::string base_dir, core::Micros max_age, core::MetricsRegistry& metrics)
    : base_dir_(std::move(base_dir)),
      max_age_(max_age),
      interval_(interval_for(max_age)),
      removed_(metrics.counter("wubd_temp_files_removed_total",
                               "Stale temp files (left by a process that died mid-write) removed since start.")),
      timer_(loop),
      tasks_(loop) {}

core::Micros TempSweeper::interval_for(core::Micros max_age) {
  return std::clamp(max_age / 2, core::Micros(core::kMicrosPerSecond), core::Micros(300 * core::kMicrosPerSecond));
}

void TempSweeper::start() {
  std::uint64_t ms = std::uint64_t(interval_ / 1000);
  timer_.start(
      ms, [this] { sweep(); }, ms);
  timer_.unref();  // housekeeping: it never keeps the loop alive by itself
}

void TempSweeper::sweep() {
  if (sweeping_) return;  // the last sweep is still walking (a slow disk)
  sweeping_ = true;
  // A temp file becomes stale max_age after its last write; its hour directory was
  // touched when the file was created, at most a download's lifetime before that.
  // Hours untouched for longer than that plus an hour hold no temp worth a look.
  TempSweepScope scope{2 * max_age_ + 2 * interval_ + core::kMicrosPerHour, FileWriter::being_written()};
  tasks_.compute<std::vector<std::string>>(
      [base = base_dir_, max_age = max_age_, scope = std::move(scope)] {
        return remove_stale_temp_files(base, max_age, scope);
      },
      [this](const std::vector<std::string>& removed) {
        sweeping_ = false;
        for (const auto& path : removed) {
          log::logger(log::Module::Store).info("removed stale temp file {}", path);
        }
        if (!removed.empty()) removed_.inc({}, double(removed.size()));
      });
}

}  // namespace wubd::store
