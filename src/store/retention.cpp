#include "wubd/store/retention.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "store_log.h"
#include "wubd/io/clock.h"
#include "wubd/log/log.h"

namespace wubd::store {
namespace {

std::string hour_path(const core::ArchiveHour& hour) {
  return hour.stream + "/" + hour.variant + "/" + core::format_hour(hour.start);
}

// 1.4 GiB, 512.0 MiB: for log lines.
std::string size_text(std::int64_t bytes) {
  double value = double(bytes);
  const char* unit = "B";
  for (const char* next : {"KiB", "MiB", "GiB", "TiB"}) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return fmt::format("{:.1f} {}", value, unit);
}

}  // namespace

Retention::Retention(uv_loop_t* loop, SegmentStore& store, const RangeHolds& holds, core::KeepPolicy policy,
                     core::Micros interval, core::MetricsRegistry& metrics)
    : store_(store),
      holds_(holds),
      policy_(std::move(policy)),
      interval_(interval),
      deleted_hours_(metrics.counter("wubd_retention_deleted_hours_total",
                                     "Hour directories retention deleted (--keep-hours, --keep-bytes), per stream.")),
      deleted_bytes_(metrics.counter("wubd_retention_deleted_bytes_total", "Bytes retention deleted, per stream.")),
      passes_(metrics.counter("wubd_retention_passes_total",
                              "Retention passes finished (measure, then delete what the limits say).")),
      archive_bytes_(
          metrics.gauge("wubd_archive_bytes", "Bytes in the archive per stream, as retention last measured.")),
      timer_(loop),
      tasks_(loop) {
  int fd = ::open(store.base_dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    log().error("retention: cannot open {}: {}: nothing will be deleted", store.base_dir(), std::strerror(errno));
    return;
  }
  base_ = std::make_shared<const io::OwnedFd>(fd);
}

Retention::~Retention() = default;

void Retention::start() {
  if (!base_) return;
  std::uint64_t ms = std::uint64_t(interval_ / 1000);
  // The first pass soon after start (once the index is built), then every interval.
  timer_.start(
      std::min<std::uint64_t>(ms, 1000), [this] { pass(); }, ms);
  timer_.unref();
}

void Retention::stop() {
  stopped_ = true;
  timer_.stop();
  to_delete_.clear();
}

bool Retention::keeps(const std::string& stream, core::Micros hour) const {
  core::Micros now = io::wall_clock_now();
  if (core::hour_is_held(stream, hour, holds_.held())) return true;
  std::optional<core::Micros> keep_for = core::keep_for(policy_, stream);
  if (keep_for && hour + core::kMicrosPerHour <= now - *keep_for) return false;
  auto bytes = deleted_for_bytes_until_.find(stream);
  return bytes == deleted_for_bytes_until_.end() || hour >= bytes->second;
}

void Retention::pass() {
  if (passing_ || stopped_ || !base_) return;
  const IndexProgress& index = store_.index_progress();
  if (index.started && !index.done) {
    // The index is what says which hours exist; until it is built, an hour not read
    // yet would be missed, and its bytes with it.
    status_.last_result = "waiting for the store's index";
    return;
  }
  passing_ = true;
  pass_started_ms_ = uv_now(tasks_.loop());
  pass_deleted_ = 0;
  pass_bytes_ = 0;
  std::vector<core::ArchiveHour> hours;
  for (const std::string& stream : store_.list_streams()) {
    for (const std::string& variant : store_.list_variants(stream)) {
      for (const std::string& hour : store_.list_hours(stream, variant)) {
        if (auto start = core::parse_hour(hour)) hours.push_back({stream, variant, *start, 0, 0});
      }
    }
  }
  int rc = tasks_.compute<Measurement>(
      [base = base_, hours = std::move(hours), previous = measured_]() mutable {
        return measure(base->get(), std::move(hours), std::move(previous));
      },
      [this](Measurement measurement) { on_measured(std::move(measurement)); });
  if (rc != 0) {
    passing_ = false;
    log().warn("retention: cannot queue a measurement: {}", uv_err_name(rc));
  }
}

Retention::Measurement Retention::measure(int base_fd, std::vector<core::ArchiveHour> hours, MeasuredHours previous) {
  Measurement out;
  for (core::ArchiveHour& hour : hours) {
    std::string path = hour_path(hour);
    int fd = io::open_beneath(base_fd, path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) continue;  // gone since it was listed
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      continue;
    }
    std::int64_t mtime_ns = std::int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    auto known = previous.find(path);
    if (known != previous.end() && known->second.mtime_ns == mtime_ns) {
      ::close(fd);  // nothing added, removed or renamed since it was measured
      hour.bytes = known->second.bytes;
      hour.files = known->second.files;
    } else {
      DIR* dir = ::fdopendir(fd);
      if (!dir) {
        ::close(fd);
        continue;
      }
      while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] == '.' && (entry->d_name[1] == '\0' || std::strcmp(entry->d_name, "..") == 0)) continue;
        struct stat file {};
        if (::fstatat(::dirfd(dir), entry->d_name, &file, AT_SYMLINK_NOFOLLOW) != 0) continue;
        hour.bytes += std::int64_t(file.st_size);
        ++hour.files;
      }
      ::closedir(dir);
    }
    out.measured[path] = Measured{mtime_ns, hour.bytes, hour.files};
    out.hours.push_back(hour);
  }
  return out;
}

void Retention::on_measured(Measurement measurement) {
  measured_ = std::move(measurement.measured);
  std::map<std::string, std::int64_t> stream_bytes;
  for (const core::ArchiveHour& hour : measurement.hours) stream_bytes[hour.stream] += hour.bytes;
  status_.stream_bytes = stream_bytes;
  for (const auto& [stream, bytes] : stream_bytes) archive_bytes_.set({{"stream", stream}}, double(bytes));

  core::RetentionPlan plan =
      core::plan_retention(std::move(measurement.hours), policy_, holds_.held(), io::wall_clock_now());
  if (plan.unmet != status_.unmet) {
    for (const std::string& line : plan.unmet) log().warn("retention: {}", line);
  }
  status_.unmet = plan.unmet;
  to_delete_ = std::move(plan.deletions);
  std::reverse(to_delete_.begin(), to_delete_.end());  // taken from the back: oldest first
  delete_next();
}

void Retention::delete_next() {
  // Held ranges are asked again before each deletion: a cut may have begun meanwhile.
  std::vector<core::HeldRange> held = holds_.held();
  while (!to_delete_.empty() && !stopped_) {
    core::HourDeletion next = std::move(to_delete_.back());
    to_delete_.pop_back();
    if (core::hour_is_held(next.hour.stream, next.hour.start, held)) {
      log().info("retention: keeping {}: held since the pass began", hour_path(next.hour));
      continue;
    }
    std::string path = hour_path(next.hour);
    int rc = tasks_.compute<Removal>([base = base_, path] { return remove_hour(base->get(), path); },
                                     [this, next, path](Removal removal) {
                                       const std::string& stream = next.hour.stream;
                                       if (removal.files > 0) {
                                         deleted_bytes_.inc({{"stream", stream}}, double(removal.bytes));
                                         status_.bytes_deleted += removal.bytes;
                                         pass_bytes_ += removal.bytes;
                                         status_.stream_bytes[stream] -= removal.bytes;
                                         archive_bytes_.set({{"stream", stream}}, double(status_.stream_bytes[stream]));
                                       }
                                       if (removal.error.empty()) {
                                         deleted_hours_.inc({{"stream", stream}});
                                         ++status_.hours_deleted;
                                         ++pass_deleted_;
                                         measured_.erase(path);
                                         log().info("retention: deleted {} ({} files, {}): {}", path, removal.files,
                                                    size_text(removal.bytes), next.reason);
                                       } else {
                                         log().warn("retention: cannot delete {} ({} files, {} removed): {}", path,
                                                    removal.files, size_text(removal.bytes), removal.error);
                                       }
                                       if (next.reason.find("--keep-bytes") != std::string::npos) {
                                         core::Micros& until = deleted_for_bytes_until_[stream];
                                         until = std::max(until, next.hour.start + core::kMicrosPerHour);
                                       }
                                       delete_next();
                                     });
    if (rc == 0) return;  // delete_next() again when it is done
    log().warn("retention: cannot queue the deletion of {}: {}", path, uv_err_name(rc));
  }
  if (!passing_) return;
  passing_ = false;
  passes_.inc({});
  status_.last_pass = double(io::wall_clock_now()) / double(core::kMicrosPerSecond);
  double seconds = double(uv_now(tasks_.loop()) - pass_started_ms_) / 1000;
  status_.last_result =
      fmt::format("{} hours deleted ({}) in {:.2f} s", pass_deleted_, size_text(pass_bytes_), seconds);
  if (pass_deleted_ > 0) log().info("retention: pass over: {}", status_.last_result);
}

Retention::Removal Retention::remove_hour(int base_fd, const std::string& path) {
  Removal out;
  int fd = io::open_beneath(base_fd, path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    out.error = std::strerror(-fd);
    return out;
  }
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    out.error = std::strerror(errno);
    ::close(fd);
    return out;
  }
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.' && (entry->d_name[1] == '\0' || std::strcmp(entry->d_name, "..") == 0)) continue;
    struct stat st {};
    if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) continue;  // not ours to remove: the rmdir below says so
    // A symlink is removed itself, never followed.
    if (::unlinkat(::dirfd(dir), entry->d_name, 0) == 0) {
      ++out.files;
      out.bytes += std::int64_t(st.st_size);
    }
  }
  ::closedir(dir);
  auto slash = path.rfind('/');
  int parent = io::open_beneath(base_fd, path.substr(0, slash), O_RDONLY | O_DIRECTORY);
  if (parent < 0) {
    out.error = std::strerror(-parent);
    return out;
  }
  if (::unlinkat(parent, path.c_str() + slash + 1, AT_REMOVEDIR) != 0) out.error = std::strerror(errno);
  ::close(parent);
  return out;
}

}  // namespace wubd::store
