// The store's index: the file names of the newest hour directories (as many hours as
// the listings' bound holds) read once, in libuv's threadpool, and kept true by
// inotify from then on (segment_store.cpp applies the changes); new streams, variants
// and hours read there as they appear. Started by the daemon; a store without it
// reads hours as lookups ask for them.
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "relative_path.h"
#include "store_log.h"
#include "wubd/core/hour_files.h"
#include "wubd/log/log.h"
#include "wubd/store/segment_store.h"

namespace wubd::store {
namespace {

// Reads in flight at once: the threadpool is shared with segment reads, probes and
// the writers, and a directory read is mostly waiting on the disk.
constexpr int kIndexReadsAtOnce = 2;

// A directory's names as read, with what inotify said while the read ran laid over
// them (core::merge_names, as for an hour's files): sorted.
std::vector<std::string> merged_names(std::vector<std::string> read_names,
                                      const std::map<std::string, bool>& changed_while_reading) {
  std::sort(read_names.begin(), read_names.end());
  std::string merged = core::merge_names(core::join_names(read_names), changed_while_reading);
  std::vector<std::string> names;
  for (std::string_view name : core::split_names(merged)) names.emplace_back(name);
  return names;
}

}  // namespace

void SegmentStore::start_index(uv_loop_t* loop, std::size_t listed_hours) {
  if (inotify_fd_ < 0 || base_fd_ < 0 || index_.started) return;
  listed_hours_ = listed_hours;
  int fd = ::fcntl(base_fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    log().warn("cannot index {}: {}", base_dir_, std::strerror(errno));
    return;
  }
  index_base_ = std::make_shared<const io::OwnedFd>(fd);
  index_tasks_ = std::make_unique<io::TaskGroup>(loop);
  index_.started = true;
  index_started_ms_ = uv_now(loop);
  for (const std::string& stream : list_streams()) {
    for (const std::string& variant : list_variants(stream))
      queue_hours_for_index(join_relative(stream, variant), list_hours(stream, variant));
  }
  // Newest last, taken first: the hours a player or an editor asks for first. As many
  // as the listings' bound (--cache-hours) holds; older ones are read when asked for.
  std::stable_sort(index_queue_.begin(), index_queue_.end(),
                   [](const HourToIndex& a, const HourToIndex& b) { return a.hour < b.hour; });
  if (index_queue_.size() > max_cached_hours_) {
    index_queue_.erase(index_queue_.begin(), index_queue_.end() - std::ptrdiff_t(max_cached_hours_));
    index_.hours_total = index_queue_.size();
  }
  if (!index_queue_.empty()) {
    log().info("indexing {} hour directories of {} in the threadpool", index_queue_.size(), base_dir_);
  } else {
    index_.seconds = 0.001;  // nothing to build: no line for it either
  }
  index_next();
}

void SegmentStore::stop_index() {
  index_queue_.clear();
  directory_queue_.clear();
  index_tasks_.reset();  // reads in flight finish on their own; their results are dropped
  index_reads_in_flight_ = 0;
}

void SegmentStore::queue_for_index(const std::string& path, const std::string& hour, bool list) {
  if (auto it = hours_.find(path); it != hours_.end() && (it->second.known() || it->second.indexing)) return;
  index_queue_.push_back({path, hour, list});
  ++index_.hours_total;
  index_.done = false;
}

void SegmentStore::queue_hours_for_index(const std::string& variant_path, const std::vector<std::string>& hours) {
  std::size_t first_listed = hours.size() - std::min(hours.size(), listed_hours_);
  for (std::size_t i = 0; i < hours.size(); ++i)
    queue_for_index(join_relative(variant_path, hours[i]), hours[i], i >= first_listed);
}

void SegmentStore::queue_directory_for_index(const std::string& path, EntryKind kind) {
  auto [it, inserted] = names_.try_emplace(path);
  CachedNames& cache = it->second;
  if (!inserted && (cache.watch >= 0 || cache.indexing)) return;  // read already, or being read
  cache.kind = kind;
  // Watched before it is read, as hours are.
  cache.watch = add_watch(path);
  if (cache.watch < 0) {
    names_.erase(it);  // lookups read it, as without an index
    return;
  }
  cache.indexing = true;
  directory_queue_.push_back(path);
  index_.done = false;
}

void SegmentStore::index_next() {
  if (!index_tasks_) return;
  while (index_reads_in_flight_ < kIndexReadsAtOnce && !directory_queue_.empty()) {
    std::string path = std::move(directory_queue_.back());
    directory_queue_.pop_back();
    auto it = names_.find(path);
    if (it == names_.end() || !it->second.indexing) continue;  // gone, or read by a lookup
    ++index_reads_in_flight_;
    int rc = index_tasks_->compute<DirectoryRead>(
        [base = index_base_, path] { return read_directory(base->get(), path, true); },
        [this, path](DirectoryRead read) {
          --index_reads_in_flight_;
          on_directory_read(path, std::move(read));
          index_next();
        });
    if (rc != 0) {
      --index_reads_in_flight_;
      it->second.indexing = false;
      log().warn("cannot queue a read of {}/{}: {}", base_dir_, path, uv_err_name(rc));
    }
  }
  while (index_reads_in_flight_ < kIndexReadsAtOnce && !index_queue_.empty()) {
    HourToIndex next = std::move(index_queue_.back());
    index_queue_.pop_back();
    const std::string& path = next.path;
    CachedHour& cache = hours_[path];
    if (cache.known() || cache.indexing) {
      ++index_.hours_indexed;  // a lookup read it first
      continue;
    }
    // Watched before it is read: what changes while it is read is in the events too.
    if (cache.watch < 0) cache.watch = add_watch(path);
    if (cache.watch < 0) {
      hours_.erase(path);  // no watch to be had: lookups read it, as without an index
      ++index_.hours_indexed;
      continue;
    }
    cache.indexing = true;
    cache.last_used = ++use_counter_;
    ++index_reads_in_flight_;
    int rc =
        index_tasks_->compute<DirectoryRead>([base = index_base_, path, hour = next.hour,
                                              list = next.list] { return read_hour(base->get(), path, hour, list); },
                                             [this, path](DirectoryRead read) {
                                               --index_reads_in_flight_;
                                               on_hour_read(path, std::move(read));
                                               index_next();
                                             });
    if (rc != 0) {
      --index_reads_in_flight_;
      cache.indexing = false;
      ++index_.hours_indexed;
      log().warn("cannot queue a read of {}/{}: {}", base_dir_, path, uv_err_name(rc));
    }
  }
  if (index_queue_.empty() && directory_queue_.empty() && index_reads_in_flight_ == 0 && !index_.done) {
    index_.done = true;
    if (index_.seconds > 0) return;  // a new hour, read since: not worth a line
    index_.seconds = std::max(0.001, double(uv_now(index_tasks_->loop()) - index_started_ms_) / 1000);
    log().info("index of {} built: {} hours, {} files read in {:.3f} s", base_dir_, index_.hours_indexed, index_.files,
               index_.seconds);
  }
}

template <typename Cache>
Cache* SegmentStore::finish_index_read(std::map<std::string, Cache>& caches, const std::string& path,
                                       const DirectoryRead& read) {
  auto it = caches.find(path);
  if (it == caches.end() || !it->second.indexing) return nullptr;  // gone, or a lookup read it first
  Cache& cache = it->second;
  cache.indexing = false;
  for (const std::string& name : read.symlinks) warn_symlink(join_relative(path, name));
  if (read.error) {
    log().warn("cannot index {}/{}: {}", base_dir_, path, std::strerror(read.error));
    forget_entry(caches, path);
    return nullptr;
  }
  ++stats_.directory_scans;
  return &cache;
}

void SegmentStore::on_hour_read(const std::string& path, DirectoryRead read) {
  ++index_.hours_indexed;
  if (read.names_text) index_.files += core::count_names(*read.names_text);
  CachedHour* found = finish_index_read(hours_, path, read);
  if (!found) return;
  CachedHour& cache = *found;
  cache.digest.reset();
  cache.last_used = ++use_counter_;
  warn_rejected(cache, path, read.rejected);
  if (cache.changes.empty() && read.listing) {
    read.listing->version = next_version_++;
    cache.listing = std::move(read.listing);
    cache.names = std::move(read.names_text);
    cache.changed = false;
    return;
  }
  // Listings of older hours are made at their first lookup: most are never asked for.
  cache.names = std::move(read.names_text);
  cache.listing.reset();
  cache.changed = true;
}

void SegmentStore::on_directory_read(const std::string& path, DirectoryRead read) {
  CachedNames* found = finish_index_read(names_, path, read);
  if (!found) return;
  CachedNames& cache = *found;
  std::vector<std::string> names = merged_names(std::move(read.names), cache.changed_while_indexing);
  cache.changed_while_indexing.clear();
  std::erase_if(names, [&](const std::string& name) {
    if (cache.kind != EntryKind::Hours || core::parse_hour(name)) return false;
    if (warned_names_.insert(join_relative(path, name)).second) {
      log().warn("ignoring {}/{}/{}: not an hour directory (YYYY-MM-DDTHH)", base_dir_, path, name);
    }
    return true;
  });
  cache.names = std::move(names);
  cache.hour_starts.clear();
  for (const std::string& name : cache.names) {
    if (cache.kind == EntryKind::Hours) {
      cache.hour_starts.push_back(*core::parse_hour(name));
    } else {
      queue_directory_for_index(join_relative(path, name), EntryKind::Hours);
    }
  }
  if (cache.kind == EntryKind::Hours) queue_hours_for_index(path, cache.names);
}

SegmentStore::DirectoryRead SegmentStore::read_hour(int base_fd, const std::string& path, const std::string& hour,
                                                    bool list) {
  DirectoryRead read = read_directory(base_fd, path, false);
  if (read.error) return read;
  std::sort(read.names.begin(), read.names.end());
  read.names_text = std::make_shared<const std::string>(core::join_names(read.names));
  read.names = {};
  auto hour_start = core::parse_hour(hour);
  if (!list || !hour_start) return read;
  read.listing = core::make_hour_listing(hour, *hour_start, read.names_text, sizes_in(base_fd, path), read.rejected);
  return read;
}

}  // namespace wubd::store
