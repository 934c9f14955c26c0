#include "wubd/app/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "wubd/app/version.h"

namespace wubd::app {
namespace {

constexpr std::uint64_t kTickMs = 250;

double boot_time_seconds() {
  std::ifstream stat("/proc/stat");
  std::string key;
  double value = 0;
  while (stat >> key) {
    if (key == "btime") {
      stat >> value;
      return value;
    }
    stat.ignore(1 << 16, '\n');
  }
  return 0;
}

}  // namespace

ProcessSample sample_process() {
  ProcessSample sample;
  double ticks = double(sysconf(_SC_CLK_TCK));
  double page = double(sysconf(_SC_PAGESIZE));
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces, so split after its ')').
  if (auto close = stat.rfind(')'); close != std::string::npos && ticks > 0) {
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    for (int i = 3; fields >> field; ++i) {
      if (i == 14) sample.cpu_seconds += std::stod(field) / ticks;  // utime
      if (i == 15) sample.cpu_seconds += std::stod(field) / ticks;  // stime
      if (i == 22) sample.start_time_seconds = boot_time_seconds() + std::stod(field) / ticks;
      if (i == 23) sample.virtual_bytes = std::stod(field);
      if (i == 24) {
        sample.resident_bytes = std::stod(field) * page;
        break;
      }
    }
  }
  if (DIR* fds = opendir("/proc/self/fd")) {
    while (dirent* entry = readdir(fds)) {
      if (entry->d_name[0] != '.') sample.open_fds += 1;
    }
    closedir(fds);
    sample.open_fds -= 1;  // the directory's own descriptor
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) sample.max_fds = double(limit.rlim_cur);
  return sample;
}

ProcessMetrics::ProcessMetrics(uv_loop_t* loop, core::MetricsRegistry& metrics)
    : loop_(loop),
      lag_(metrics.histogram("wubd_loop_lag_seconds",
                             "How late a timer due every 250 ms fired: how long the loop was held.",
                             {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5})),
      timer_(loop) {
  core::CounterFamily& cpu = metrics.counter("process_cpu_seconds_total", "Total user and system CPU time.");
  core::GaugeFamily& resident = metrics.gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  core::GaugeFamily& virtual_memory = metrics.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.");
  core::GaugeFamily& open_fds = metrics.gauge("process_open_fds", "Number of open file descriptors.");
  core::GaugeFamily& max_fds = metrics.gauge("process_max_fds", "Maximum number of open file descriptors.");
  core::GaugeFamily& start_time =
      metrics.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.");
  core::GaugeFamily& build = metrics.gauge("wubd_build_info", "wubd's version and its libraries', as labels; 1.");
  std::string wubd_version = version();
  auto libraries = library_versions();  // the labels below point into these
  core::Labels labels = {{"version", wubd_version}};
  for (const auto& [name, v] : libraries) labels.emplace_back(name, v);
  build.set(labels, 1);
  refresh_ = metrics.add_refresh([&] {
    ProcessSample sample = sample_process();
    cpu.set_total({}, sample.cpu_seconds);
    resident.set({}, sample.resident_bytes);
    virtual_memory.set({}, sample.virtual_bytes);
    open_fds.set({}, sample.open_fds);
    max_fds.set({}, sample.max_fds);
    start_time.set({}, sample.start_time_seconds);
  });
  due_ms_ = uv_now(loop_) + kTickMs;
  timer_.start(
      kTickMs, [this] { on_tick(); }, kTickMs);
  timer_.unref();  // a measurement never keeps the process alive
}

void ProcessMetrics::on_tick() {
  // uv_now is the loop's time at the start of this turn: close enough, and free.
  uv_update_time(loop_);
  std::uint64_t now = uv_now(loop_);
  double lag = now > due_ms_ ? double(now - due_ms_) / 1e3 : 0;
  lag_.observe({}, lag);
  last_lag_ = lag;
  worst_lag_ = std::max(worst_lag_, lag);
  due_ms_ = now + kTickMs;
}

double ProcessMetrics::worst_recent_lag_seconds() { return std::exchange(worst_lag_, 0.0); }

}  // namespace wubd::app
