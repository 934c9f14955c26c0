// The store's inotify half: every directory the store has read is watched, and what
// the kernel reports (files created, renamed in or out, removed; hours, variants and
// streams that appear or go) changes the listings in memory, so a directory already
// read is never read again while its watch holds. The daemon polls the inotify fd
// (read_changes); lookups drain it first too.
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>

#include "relative_path.h"
#include "wubd/core/hour_files.h"
#include "wubd/io/clock.h"
#include "wubd/log/log.h"
#include "wubd/store/segment_store.h"

namespace wubd::store {
namespace {

using core::Micros;

// A segment's name (`….ts`) that is not a temp file being written: what makes a
// variant "growing" for its live playlists.
bool is_segment_file(std::string_view name) {
  return name.size() > 3 && name.substr(name.size() - 3) == ".ts" && name.find("-temp-") == std::string_view::npos;
}

}  // namespace

int SegmentStore::add_watch(const std::string& relative) {
  if (inotify_fd_ < 0) return -1;
  // Created, removed and renamed entries; closed after writing (a size may have
  // changed); the directory itself removed or renamed. IN_DONT_FOLLOW: the path was
  // just checked to hold no symlink below the base.
  constexpr std::uint32_t kMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE |
                                  IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK;
  std::string path = relative.empty() ? base_dir_ : base_dir_ + "/" + relative;
  int watch = inotify_add_watch(inotify_fd_, path.c_str(), kMask);
  if (watch < 0) {
    if (!warned_watch_limit_) {
      warned_watch_limit_ = true;
      log::logger(log::Module::Store)
          .warn(
              "cannot watch {} ({}): such directories are read again when their mtime moves (said once; raise "
              "fs.inotify.max_user_watches if the limit is reached)",
              path, std::strerror(errno));
    }
    return -1;
  }
  watched_[watch] = relative;
  return watch;
}

void SegmentStore::remove_watch(int& watch) {
  if (watch < 0) return;
  // A directory's watch is shared by nothing else: names and hours are other paths.
  inotify_rm_watch(inotify_fd_, watch);
  watched_.erase(watch);
  watch = -1;
}

void SegmentStore::forget_watches() {
  ++stats_.overflows;
  log::logger(log::Module::Store)
      .warn("inotify's queue overflowed: every directory of {} is read again at its next lookup", base_dir_);
  for (auto& [path, cache] : names_) {
    remove_watch(cache.watch);
    cache.trusted = false;
    cache.scanned_in_snapshot = 0;
  }
  for (auto& [path, cache] : hours_) {
    remove_watch(cache.watch);
    cache.trusted = false;
    cache.scanned_in_snapshot = 0;
  }
}

void SegmentStore::read_changes() {
  if (inotify_fd_ < 0) return;
  alignas(inotify_event) char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::read(inotify_fd_, buffer, sizeof buffer);
    if (n <= 0) break;  // EAGAIN: nothing more queued
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      at += ssize_t(sizeof(inotify_event) + event->len);
      if (event->mask & IN_Q_OVERFLOW) {
        forget_watches();
        continue;
      }
      auto it = watched_.find(event->wd);
      if (it == watched_.end()) continue;  // a watch already removed
      std::string directory = it->second;
      if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        // The directory went (or moved): what was known of it is void.
        if (!(event->mask & IN_IGNORED)) inotify_rm_watch(inotify_fd_, event->wd);
        watched_.erase(it);
        names_.erase(directory);
        hours_.erase(directory);
        ++stats_.changes;
        continue;
      }
      if (event->len > 0) apply_change(directory, event->name, event->mask);
    }
  }
}

void SegmentStore::apply_change(const std::string& directory, std::string_view name, std::uint32_t mask) {
  if (name.empty() || name[0] == '.') return;  // hidden: rsync's temp files, among others
  bool added = mask & (IN_CREATE | IN_MOVED_TO);
  bool removed = mask & (IN_DELETE | IN_MOVED_FROM);
  bool is_directory = mask & IN_ISDIR;
  std::string entry(name);
  if (auto it = names_.find(directory); it != names_.end()) {
    CachedNames& cache = it->second;
    if (cache.indexing) {
      if (is_directory && (added || removed)) cache.changed_while_indexing[entry] = added;
      return;
    }
    if (!is_directory) {
      if (added) {
        struct stat st;
        if (io::stat_beneath(base_fd_, join_relative(directory, entry), st) == -ELOOP)
          warn_symlink(join_relative(directory, entry));
      }
      return;
    }
    std::optional<Micros> hour;
    if (cache.kind == EntryKind::Hours) {
      if (auto parsed = core::parse_hour(entry)) hour = *parsed;
      if (!hour) {
        if (added && warned_names_.insert(join_relative(directory, entry)).second) {
          log::logger(log::Module::Store)
              .warn("ignoring {}/{}: not an hour directory (YYYY-MM-DDTHH)", base_dir_ + "/" + directory, entry);
        }
        return;
      }
    }
    auto at = std::lower_bound(cache.names.begin(), cache.names.end(), entry);
    bool present = at != cache.names.end() && *at == entry;
    std::size_t index = std::size_t(at - cache.names.begin());
    if (added && !present) {
      cache.names.insert(at, entry);
      if (hour) {
        cache.hour_starts.insert(cache.hour_starts.begin() + std::ptrdiff_t(index), *hour);
        // A new hour (of a stream being downloaded, most likely): read it off the loop
        // now, before a lookup wants it.
        if (index_.started) {
          queue_for_index(join_relative(directory, entry), entry, listed_hours_ > 0);
          index_next();
        }
      } else if (index_.started && !(directory.empty() && is_extras_dir(entry))) {
        // A new stream or variant: read it, and what it holds, off the loop too.
        queue_directory_for_index(join_relative(directory, entry),
                                  directory.empty() ? EntryKind::Directories : EntryKind::Hours);
        index_next();
      }
    } else if (removed && present) {
      cache.names.erase(at);
      if (hour) cache.hour_starts.erase(cache.hour_starts.begin() + std::ptrdiff_t(index));
    }
    ++stats_.changes;
    return;
  }
  auto it = hours_.find(directory);
  if (it == hours_.end() || is_directory) return;
  CachedHour& cache = it->second;
  if (added) {
    // Only regular files count; a symlink is never followed, whatever its name.
    struct stat st;
    int rc = io::stat_beneath(base_fd_, directory + "/" + entry, st);
    if (rc == -ELOOP) warn_symlink(directory + "/" + entry);
    if (rc != 0 || !S_ISREG(st.st_mode)) return;
    cache.changes[entry] = true;
    if (is_segment_file(entry)) {
      std::size_t slash = directory.rfind('/');
      if (slash != std::string::npos) segment_added_[directory.substr(0, slash)] = io::wall_clock_now();
    }
  } else if (removed) {
    cache.changes[entry] = false;
  } else if (!(mask & IN_CLOSE_WRITE)) {
    return;
  }
  // Merged into the names when a lookup needs them (names_now); a file closed after
  // writing changes no name, but perhaps the size that chooses between copies.
  if (cache.indexing) return;
  cache.digest.reset();
  cache.changed = true;
  ++stats_.changes;
  // An hour nobody asks for (a variant being recorded or backfilled, unwatched) would
  // keep every change as a map entry, about twice what its name costs in the text.
  if (cache.changes.size() >= kChangesToMerge) names_now(cache);
}

}  // namespace wubd::store
