#include "wubd/store/segment_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include "relative_path.h"
#include "wubd/core/hour_files.h"
#include "wubd/core/playlist_writer.h"
#include "wubd/log/log.h"

namespace wubd::store {
namespace {

using core::Micros;

// Linux stamps directory changes with a coarse clock (one jiffy), and some file
// systems only to the second, so an mtime this close to "now" may hide a later
// change. Listings are cached only once their directory's mtime is older than this.
constexpr Micros kMtimeGranularity = 1 * core::kMicrosPerSecond;

Micros now_wall() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return Micros(ts.tv_sec) * core::kMicrosPerSecond + ts.tv_nsec / 1000;
}

Micros to_micros(const timespec& ts) { return Micros(ts.tv_sec) * core::kMicrosPerSecond + ts.tv_nsec / 1000; }

bool same_time(const timespec& a, const timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

// What a directory entry is, without following a symlink.
enum class EntryType { Directory, File, Symlink, Other };

EntryType entry_type(int dir_fd, const dirent* entry) {
  switch (entry->d_type) {
    case DT_DIR:
      return EntryType::Directory;
    case DT_REG:
      return EntryType::File;
    case DT_LNK:
      return EntryType::Symlink;
    case DT_UNKNOWN:
      break;
    default:
      return EntryType::Other;
  }
  struct stat st;
  if (fstatat(dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) return EntryType::Other;
  if (S_ISDIR(st.st_mode)) return EntryType::Directory;
  if (S_ISREG(st.st_mode)) return EntryType::File;
  if (S_ISLNK(st.st_mode)) return EntryType::Symlink;
  return EntryType::Other;
}

// Opens a directory below the base for reading; null (and a log line) if it cannot.
DIR* open_directory(int base_fd, const std::string& base_dir, const std::string& relative) {
  int fd = io::open_beneath(base_fd, relative.empty() ? "." : relative, O_RDONLY | O_DIRECTORY);
  DIR* dir = fd >= 0 ? fdopendir(fd) : nullptr;
  if (!dir) {
    int error = fd < 0 ? -fd : errno;
    if (fd >= 0) ::close(fd);
    log::logger(log::Module::Store).warn("cannot list {}/{}: {}", base_dir, relative, std::strerror(error));
  }
  return dir;
}

}  // namespace

SegmentStore::SegmentStore(std::string base_dir, size_t max_cached_hours, bool watch)
    : base_dir_(std::move(base_dir)), max_cached_hours_(std::max<size_t>(max_cached_hours, 1)) {
  while (base_dir_.size() > 1 && base_dir_.back() == '/') base_dir_.pop_back();
  // The base itself may be a symlink (the operator's choice); nothing below it may.
  base_fd_ = ::open(base_dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (base_fd_ < 0) {
    log::logger(log::Module::Store).error("cannot open the base directory {}: {}", base_dir_, std::strerror(errno));
  }
  if (watch) {
    inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0) {
      log::logger(log::Module::Store)
          .warn("cannot watch {} (inotify: {}): directories are read again when their mtime moves", base_dir_,
                std::strerror(errno));
    }
  }
}

SegmentStore::~SegmentStore() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  if (base_fd_ >= 0) ::close(base_fd_);
}

std::string SegmentStore::variant_path(const std::string& stream, const std::string& variant) const {
  return base_dir_ + "/" + stream + "/" + variant;
}

std::string SegmentStore::segment_path(const std::string& stream, const std::string& variant, const std::string& hour,
                                       const std::string& file) const {
  return variant_path(stream, variant) + "/" + hour + "/" + file;
}

io::BeneathPath SegmentStore::segment_file(const std::string& stream, const std::string& variant,
                                           const std::string& hour, const std::string& file) const {
  return {base_fd_, stream + "/" + variant + "/" + hour + "/" + file, segment_path(stream, variant, hour, file)};
}

void SegmentStore::report_to(core::MetricsRegistry& metrics) {
  core::CounterFamily& scans =
      metrics.counter("wubd_store_directory_scans_total", "Directory listings read from disk since start.");
  core::CounterFamily& hits =
      metrics.counter("wubd_store_cache_hits_total", "Directory listings answered from memory since start.");
  core::CounterFamily& changes = metrics.counter(
      "wubd_store_changes_total", "Changes inotify reported and the listings followed without reading a directory.");
  core::CounterFamily& overflows = metrics.counter(
      "wubd_store_watch_overflows_total", "Times inotify's queue overflowed, so that every directory was read again.");
  core::GaugeFamily& watches =
      metrics.gauge("wubd_store_watched_directories", "Directories the store watches with inotify.");
  core::GaugeFamily& to_index = metrics.gauge("wubd_store_index_directories_pending",
                                              "Hour directories the index has still to read (0 once it is built).");
  refresh_ = metrics.add_refresh([this, &scans, &hits, &changes, &overflows, &watches, &to_index] {
    scans.set_total({}, double(stats_.directory_scans));
    hits.set_total({}, double(stats_.cache_hits));
    changes.set_total({}, double(stats_.changes));
    overflows.set_total({}, double(stats_.overflows));
    watches.set({}, double(watched_.size()));
    to_index.set({}, double(index_.hours_total - index_.hours_indexed));
  });
}

void SegmentStore::warn_symlink(const std::string& relative) {
  if (warned_symlinks_.insert(relative).second) {
    log::logger(log::Module::Store)
        .warn("ignoring {}/{}: a symbolic link (wubd follows none below the base directory)", base_dir_, relative);
  }
}

bool SegmentStore::stat_directory(const std::string& relative, timespec& mtime) {
  struct stat st;
  if (int rc = io::stat_beneath(base_fd_, relative, st); rc != 0) {
    if (rc == -ELOOP) {
      warn_symlink(relative);
    } else if (rc != -ENOENT && rc != -ENOTDIR) {
      log::logger(log::Module::Store).warn("cannot stat {}/{}: {}", base_dir_, relative, std::strerror(-rc));
    }
    return false;
  }
  if (!S_ISDIR(st.st_mode)) return false;
  mtime = st.st_mtim;
  return true;
}

const SegmentStore::CachedNames& SegmentStore::cached_names(const std::string& relative, EntryKind kind) {
  if (auto it = names_.find(relative); it != names_.end() && it->second.watch >= 0 && !it->second.indexing) {
    ++stats_.cache_hits;
    return it->second;
  }
  timespec mtime;
  if (!stat_directory(relative, mtime)) {
    forget_entry(names_, relative);
    return empty_names_;
  }
  CachedNames& cache = names_[relative];
  cache.kind = kind;
  if (cache.indexing) {
    // Asked for before its read in the threadpool is back: read here (see hour_listing).
    cache.indexing = false;
    cache.changed_while_indexing.clear();
    cache.mtime = {};
  }
  if (same_time(cache.mtime, mtime) && (cache.trusted || cache.scanned_in_snapshot == snapshot_)) {
    ++stats_.cache_hits;
    return cache;
  }
  cache.scanned_in_snapshot = snapshot_;
  // Watched before it is read: what changes while it is read is in the events too.
  if (cache.watch < 0) cache.watch = add_watch(relative);
  Micros scanned_at = now_wall();
  ++stats_.directory_scans;
  cache.names.clear();
  cache.hour_starts.clear();
  DIR* dir = open_directory(base_fd_, base_dir_, relative);
  if (!dir) {
    cache.trusted = false;
    return cache;
  }
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;  // hidden, `.` and `..`
    EntryType type = entry_type(dirfd(dir), entry);
    if (type == EntryType::Symlink) warn_symlink(join_relative(relative, entry->d_name));
    if (type != EntryType::Directory) continue;
    if (kind == EntryKind::Hours && !core::parse_hour(entry->d_name)) {
      if (warned_names_.insert(join_relative(relative, entry->d_name)).second) {
        log::logger(log::Module::Store)
            .warn("ignoring {}/{}: not an hour directory (YYYY-MM-DDTHH)", base_dir_ + "/" + relative, entry->d_name);
      }
      continue;
    }
    cache.names.emplace_back(entry->d_name);
  }
  closedir(dir);
  std::sort(cache.names.begin(), cache.names.end());
  // Hour names are fixed-width, so name order is time order.
  if (kind == EntryKind::Hours) {
    for (const std::string& name : cache.names) cache.hour_starts.push_back(*core::parse_hour(name));
  }
  cache.mtime = mtime;
  cache.trusted = scanned_at - to_micros(mtime) > kMtimeGranularity;
  return cache;
}

std::vector<std::string> SegmentStore::list_streams() {
  read_changes();
  std::vector<std::string> streams;
  for (const std::string& name : cached_names("", EntryKind::Directories).names) {
    if (extras_dirs_.count(name)) continue;
    // A stream has a variant with hour directories. Looking at a few variants is
    // enough, and keeps a large tree that is no stream from costing a scan each time.
    const std::vector<std::string>& variants = cached_names(name, EntryKind::Directories).names;
    for (std::size_t i = 0; i < variants.size() && i < kVariantsToProbe; ++i) {
      if (!cached_names(name + "/" + variants[i], EntryKind::Hours).names.empty()) {
        streams.push_back(name);
        break;
      }
    }
  }
  return streams;
}

bool SegmentStore::is_extras_dir(const std::string& name) const { return extras_dirs_.count(name) > 0; }

io::BeneathPath SegmentStore::below_base(const std::string& relative) const {
  return {base_fd_, relative, base_dir_ + "/" + relative};
}

std::vector<std::string> SegmentStore::list_variants(const std::string& stream) {
  read_changes();
  return cached_names(stream, EntryKind::Directories).names;
}

std::vector<std::string> SegmentStore::list_hours(const std::string& stream, const std::string& variant) {
  read_changes();
  return cached_names(stream + "/" + variant, EntryKind::Hours).names;
}

std::vector<Micros> SegmentStore::hour_starts(const std::string& stream, const std::string& variant) {
  read_changes();
  return cached_names(stream + "/" + variant, EntryKind::Hours).hour_starts;
}

bool SegmentStore::variant_exists(const std::string& stream, const std::string& variant) {
  read_changes();
  timespec mtime;
  return stat_directory(stream + "/" + variant, mtime);
}

std::vector<SegmentStore::HourSource> SegmentStore::hour_sources(const std::string& stream, const std::string& variant,
                                                                 Micros start, Micros end) {
  read_changes();
  std::vector<HourSource> sources;
  for (Micros hour : core::hours_to_scan(hour_starts(stream, variant), start, end)) {
    HourSource source;
    source.hour = core::format_hour(hour);
    source.start = hour;
    source.path = stream;
    source.path += '/';
    source.path += variant;
    source.path += '/';
    source.path += source.hour;
    if (auto it = hours_.find(source.path); it != hours_.end() && it->second.known()) {
      CachedHour& cache = it->second;
      cache.last_used = ++use_counter_;
      if (cache.listing && !cache.changed) {
        source.listing = cache.listing;
      } else {
        source.names = names_now(cache);
      }
    }
    sources.push_back(std::move(source));
  }
  return sources;
}

std::shared_ptr<const io::OwnedFd> SegmentStore::base_descriptor() {
  if (!index_base_ && base_fd_ >= 0) {
    int fd = ::fcntl(base_fd_, F_DUPFD_CLOEXEC, 0);
    if (fd >= 0) index_base_ = std::make_shared<const io::OwnedFd>(fd);
  }
  return index_base_;
}

std::shared_ptr<const HourListing> SegmentStore::listing_of(int base_fd, const HourSource& source) {
  if (source.listing) return source.listing;
  std::vector<std::pair<std::string, std::string>> rejected;  // names no hour holds: the loop warns of them
  if (source.names) {
    return core::make_hour_listing(source.hour, source.start, source.names, sizes_in(base_fd, source.path), rejected);
  }
  DirectoryRead read = read_hour(base_fd, source.path, source.hour, true);
  if (read.listing) return read.listing;
  return std::make_shared<const HourListing>();
}

std::optional<Micros> SegmentStore::last_segment_added(const std::string& stream, const std::string& variant) const {
  auto it = segment_added_.find(stream + "/" + variant);
  if (it == segment_added_.end()) return std::nullopt;
  return it->second;
}

std::shared_ptr<const HourListing> SegmentStore::hour_listing(const std::string& stream, const std::string& variant,
                                                              const std::string& hour) {
  read_changes();
  std::string path = stream + "/" + variant + "/" + hour;  // below the base
  auto hour_start = core::parse_hour(hour);
  if (!hour_start) return empty_hour_;
  if (auto it = hours_.find(path); it != hours_.end() && it->second.known()) {
    CachedHour& cache = it->second;
    cache.last_used = ++use_counter_;
    ++stats_.cache_hits;
    if (cache.changed) make_listing(cache, path, hour, *hour_start);
    return cache.listing;
  }
  timespec mtime;
  if (!stat_directory(path, mtime)) {
    forget_entry(hours_, path);
    return empty_hour_;
  }
  CachedHour& cache = hours_[path];
  cache.last_used = ++use_counter_;
  if (cache.listing && same_time(cache.mtime, mtime) && (cache.trusted || cache.scanned_in_snapshot == snapshot_)) {
    ++stats_.cache_hits;
    return cache.listing;
  }
  if (cache.indexing) {
    // Asked for before its read in the threadpool is back: read here, as before the
    // index (the watch is on already, and the changes so far are in what is read).
    cache.indexing = false;
  }
  cache.scanned_in_snapshot = snapshot_;
  // Watched before it is read: what changes while it is read is in the events too.
  if (cache.watch < 0) cache.watch = add_watch(path);

  Micros scanned_at = now_wall();
  ++stats_.directory_scans;
  cache.names.reset();
  cache.changes.clear();  // what is read now has them
  cache.digest.reset();
  DIR* dir = open_directory(base_fd_, base_dir_, path);
  if (!dir) {
    auto listing = std::make_shared<HourListing>();
    listing->version = next_version_++;
    cache.listing = std::move(listing);
    cache.trusted = false;
    remove_watch(cache.watch);
    return cache.listing;
  }
  std::vector<std::string> file_names;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    // Only regular files count; a symlink is never followed, whatever its name.
    if (EntryType type = entry_type(dirfd(dir), entry); type != EntryType::File) {
      if (type == EntryType::Symlink) warn_symlink(path + "/" + entry->d_name);
      continue;
    }
    file_names.emplace_back(entry->d_name);
  }
  closedir(dir);
  std::sort(file_names.begin(), file_names.end());
  cache.names = std::make_shared<const std::string>(core::join_names(file_names));
  make_listing(cache, path, hour, *hour_start);
  cache.mtime = mtime;
  cache.trusted = scanned_at - to_micros(mtime) > kMtimeGranularity;
  std::shared_ptr<const HourListing> result = cache.listing;
  if (hours_.size() > max_cached_hours_) evict_hours();
  return result;
}

SegmentStore::DirectoryRead SegmentStore::read_directory(int base_fd, const std::string& path, bool subdirectories) {
  DirectoryRead read;
  int fd = io::open_beneath(base_fd, path.empty() ? "." : path, O_RDONLY | O_DIRECTORY);
  DIR* dir = fd >= 0 ? fdopendir(fd) : nullptr;
  if (!dir) {
    read.error = fd < 0 ? -fd : errno;
    if (fd >= 0) ::close(fd);
    return read;
  }
  EntryType wanted = subdirectories ? EntryType::Directory : EntryType::File;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    EntryType type = entry_type(dirfd(dir), entry);
    if (type == wanted) read.names.emplace_back(entry->d_name);
    if (type == EntryType::Symlink) read.symlinks.emplace_back(entry->d_name);
  }
  closedir(dir);
  return read;
}

core::FileSize SegmentStore::sizes_in(int base_fd, const std::string& directory) {
  return [base_fd, directory](std::string_view file_name) -> std::int64_t {
    struct stat st;
    return io::stat_beneath(base_fd, directory + "/" + std::string(file_name), st) == 0 ? st.st_size : -1;
  };
}

const std::shared_ptr<const std::string>& SegmentStore::names_now(CachedHour& cache) {
  if (!cache.changes.empty()) {
    cache.names =
        std::make_shared<const std::string>(core::merge_names(cache.names ? *cache.names : "", cache.changes));
    cache.changes.clear();
  }
  if (!cache.names) cache.names = std::make_shared<const std::string>();
  return cache.names;
}

void SegmentStore::warn_rejected(CachedHour& cache, const std::string& path,
                                 const std::vector<std::pair<std::string, std::string>>& rejected) {
  for (const auto& [name, why] : rejected) {
    if (cache.warned.insert(name).second) {
      log::logger(log::Module::Store).warn("ignoring {}/{}/{}: {}", base_dir_, path, name, why);
    }
  }
}

void SegmentStore::make_listing(CachedHour& cache, const std::string& path, const std::string& hour,
                                Micros hour_start) {
  cache.changed = false;
  std::vector<std::pair<std::string, std::string>> rejected;
  auto listing = core::make_hour_listing(hour, hour_start, names_now(cache), sizes_in(base_fd_, path), rejected);
  warn_rejected(cache, path, rejected);
  listing->version = next_version_++;
  cache.listing = std::move(listing);
}

void SegmentStore::evict_hours() {
  // Drop the least recently used quarter; the entry just used has the newest stamp.
  std::vector<std::pair<std::uint64_t, std::string>> by_use;
  by_use.reserve(hours_.size());
  for (const auto& [path, cache] : hours_) {
    if (!cache.indexing) by_use.emplace_back(cache.last_used, path);  // its read is out: kept
  }
  std::sort(by_use.begin(), by_use.end());
  size_t drop = std::max<size_t>(1, hours_.size() - max_cached_hours_ * 3 / 4);
  for (size_t i = 0; i < drop && i + 1 < by_use.size(); ++i) {
    forget_entry(hours_, by_use[i].second);
  }
}

std::uint64_t SegmentStore::range_version(const std::string& stream, const std::string& variant, Micros start,
                                          Micros end) {
  // Listing versions are unique, so mixing them in order (FNV-1a) with the hours they
  // belong to gives a number that moves when any one of them does, or when an hour
  // directory appears or goes.
  std::uint64_t mixed = 14695981039346656037ull;
  auto mix = [&mixed](std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      mixed ^= (v >> (8 * i)) & 0xff;
      mixed *= 1099511628211ull;
    }
  };
  for (Micros hour : core::hours_to_scan(hour_starts(stream, variant), start, end)) {
    mix(std::uint64_t(hour));
    mix(hour_listing(stream, variant, core::format_hour(hour))->version);
  }
  return mixed;
}

HourDigest digest_names(std::string_view names_text) {
  EVP_MD_CTX* sha256 = EVP_MD_CTX_new();
  EVP_DigestInit_ex(sha256, EVP_sha256(), nullptr);
  EVP_DigestUpdate(sha256, names_text.data(), names_text.size());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(sha256, digest, &length);
  EVP_MD_CTX_free(sha256);
  static constexpr char kHex[] = "0123456789abcdef";
  HourDigest out;
  out.count = std::int64_t(core::count_names(names_text));
  for (unsigned int i = 0; i < length; ++i) {
    out.sha256 += kHex[digest[i] >> 4];
    out.sha256 += kHex[digest[i] & 15];
  }
  return out;
}

std::optional<HourDigest> SegmentStore::hour_digest(const std::string& stream, const std::string& variant,
                                                    const std::string& hour) {
  read_changes();
  auto it = hours_.find(stream + "/" + variant + "/" + hour);
  if (it == hours_.end() || !it->second.known()) return std::nullopt;
  CachedHour& cache = it->second;
  if (!cache.digest) cache.digest = digest_names(*names_now(cache));
  return cache.digest;
}

std::vector<core::SegmentOrHole> SegmentStore::best_segments(const std::string& stream, const std::string& variant,
                                                             Micros start, Micros end,
                                                             const std::vector<core::TimeRange>& held_holes) {
  std::vector<Micros> hours = core::hours_to_scan(hour_starts(stream, variant), start, end);
  // A lookup may evict listings looked up before it; the segments chosen from them
  // keep them alive.
  auto lookup = [&](Micros hour) { return hour_listing(stream, variant, core::format_hour(hour)); };
  return core::best_segments(lookup, hours, start, end, held_holes);
}

}  // namespace wubd::store
