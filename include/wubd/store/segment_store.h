#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "wubd/core/backfill_plan.h"
#include "wubd/core/best_segments.h"
#include "wubd/core/hour_files.h"
#include "wubd/core/metrics.h"
#include "wubd/core/time.h"
#include "wubd/io/beneath.h"
#include "wubd/io/task_group.h"
#include "wubd/store/extras.h"

// The archive on disk: BASE/STREAM/VARIANT/HOUR/TIME-DURATION-TYPE-HASH.ts.
// Reading side: listings of streams, variants, hours and segments, cached so that a
// request does not rescan directories that did not change.
namespace wubd::store {

// One hour directory as the restreamer and the backfiller see it (core's type:
// immutable and shared, so whoever holds one keeps it however the cache moves on).
using HourListing = core::HourListing;

using core::HourDigest;

// The digest of an hour's names (core::join_names: sorted, each followed by '\n'):
// their count and the sha256 of that text.
HourDigest digest_names(std::string_view names_text);

struct IndexProgress {
  bool started = false;
  bool done = false;
  std::size_t hours_total = 0;    // hour directories found to index (new hours included)
  std::size_t hours_indexed = 0;  // read in the threadpool (or by a lookup first)
  std::uint64_t files = 0;        // files the threadpool reads found
  double seconds = 0;             // from start to done
};

struct StoreStats {
  std::uint64_t directory_scans = 0;  // readdir passes actually made
  std::uint64_t cache_hits = 0;       // listings answered from cache (watched, or after a stat)
  std::uint64_t changes = 0;          // inotify events applied to listings
  std::uint64_t overflows = 0;        // inotify queue overflows (every directory is read again)
};

// Reads the store below `base_dir`. Used on the loop thread only. A directory is read
// once; from then on inotify tells what was created, renamed or removed in it (by this
// process, a wubloader, rsync or an operator) and its listing follows without reading
// it again: a slow or busy disk that makes readdir wait never stalls a playlist for a
// directory already read. Changes are applied at the start of each lookup, so a file
// renamed into place before a request is in that request's answer. Where inotify is
// not there (no watches left: fs.inotify.max_user_watches, or `watch` false), a
// directory is read again only when its mtime changed, or when its mtime is too
// recent to trust (a change within the file system's timestamp granularity would not
// move it). Missing directories read as empty.
// Below the base directory no symlink is followed (io/beneath.h): a symlinked
// stream, variant, hour or segment is left out of listings (with one warning) and
// reads as missing.
class SegmentStore {
 public:
  // `max_cached_hours` bounds the memory of hour listings (a few hundred bytes a segment).
  // The base directory is opened once, here; if it cannot be, everything reads as empty.
  explicit SegmentStore(std::string base_dir, size_t max_cached_hours = 512, bool watch = true);
  ~SegmentStore();
  SegmentStore(const SegmentStore&) = delete;
  SegmentStore& operator=(const SegmentStore&) = delete;

  const std::string& base_dir() const { return base_dir_; }

  // Starts a new snapshot: until the next call, a directory whose mtime is too recent
  // to trust is read at most once, so one request sees one consistent listing of it.
  // The restreamer calls this once per request.
  void new_snapshot() {
    ++snapshot_;
    read_changes();
  }

  // The inotify descriptor, or -1: readable when changes are queued. The daemon polls
  // it and calls read_changes(), so that the kernel's queue never overflows between
  // requests (an overflow costs a reread of every directory).
  int changes_fd() const { return inotify_fd_; }
  // Applies the changes inotify has queued. Every lookup calls it first.
  void read_changes();

  // Directories that are extras (store/extras.h), never streams: `emotes` and those
  // named here.
  void set_extras_dirs(const std::vector<std::string>& dirs) {
    extras_dirs_ = {kEmotesDirectory};
    extras_dirs_.insert(dirs.begin(), dirs.end());
  }
  bool is_extras_dir(const std::string& name) const;

  // The streams: non-hidden directories that are not extras and have a variant with
  // hour directories, sorted.
  std::vector<std::string> list_streams();
  // Non-hidden directories, sorted (`chat` among them, if the stream has chat).
  std::vector<std::string> list_variants(const std::string& stream);
  // Hour directory names (`2026-11-21T04`) of a variant, sorted, which is time order.
  // Non-hidden entries that are not hours are skipped with a warning.
  std::vector<std::string> list_hours(const std::string& stream, const std::string& variant);
  // The same hours as the times they start at.
  std::vector<core::Micros> hour_starts(const std::string& stream, const std::string& variant);

  bool variant_exists(const std::string& stream, const std::string& variant);

  // When (wall clock, µs) inotify last reported a segment file appearing in one of
  // the variant's hour directories (written by this process's downloader or
  // backfiller, a wubloader process, rsync…); nullopt if none did since start.
  std::optional<core::Micros> last_segment_added(const std::string& stream, const std::string& variant) const;

  // The listing of one hour (an empty one if the directory is missing). A rescan or an
  // eviction replaces the store's copy; the one returned stays as it was.
  std::shared_ptr<const HourListing> hour_listing(const std::string& stream, const std::string& variant,
                                                  const std::string& hour);
  // The hour's digest, if its names are known without reading the directory (indexed
  // or listed, and watched); nullopt otherwise: a peer then lists the hour instead.
  std::optional<HourDigest> hour_digest(const std::string& stream, const std::string& variant, const std::string& hour);

  // Best segments of a variant for [start, end) (start < end), with holes. Only the
  // hour directories that exist are read, so the cost is bounded by what is on disk,
  // not by how long the range is. Each segment keeps its listing alive: a selection
  // may be held across later store calls.
  // Segments in `held_holes` are left out (a live playlist's, core/live_playlist.h).
  std::vector<core::SegmentOrHole> best_segments(const std::string& stream, const std::string& variant,
                                                 core::Micros start, core::Micros end,
                                                 const std::vector<core::TimeRange>& held_holes = {});

  // What work off the loop needs to list an hour without this object (a month's
  // coverage would make hundreds of listings, seconds of work the loop must not do):
  // its listing if one is made and current, else its names if the index has them
  // (the listing is made from those), else neither (the directory is read).
  struct HourSource {
    std::string hour;  // `2026-11-21T04`
    core::Micros start = 0;
    std::string path;  // below the base
    std::shared_ptr<const HourListing> listing;
    std::shared_ptr<const std::string> names;
  };
  // The hour directories of a variant that may hold segments of [start, end) (as
  // best_segments scans), with what is known of each. Reads no directory.
  std::vector<HourSource> hour_sources(const std::string& stream, const std::string& variant, core::Micros start,
                                       core::Micros end);
  // The base directory's descriptor, for work in the threadpool (kept open while any
  // such work holds it).
  std::shared_ptr<const io::OwnedFd> base_descriptor();
  // The listing of `source`, in the threadpool: the one it holds, or made from its
  // names, or from a read of its directory below `base_fd` (an empty one if that
  // fails). Symlinks are skipped as the store skips them.
  static std::shared_ptr<const HourListing> listing_of(int base_fd, const HourSource& source);

  // A number that changes whenever any hour listing of [start, end) is read anew
  // (or an hour directory appears or goes): what a rendered playlist depends on.
  // Reads the existing hours of the range only, like best_segments.
  std::uint64_t range_version(const std::string& stream, const std::string& variant, core::Micros start,
                              core::Micros end);

  // BASE/stream/variant[/hour[/file]], for parts already checked by core::route_path:
  // for logs and errors. Files are opened through segment_file().
  std::string variant_path(const std::string& stream, const std::string& variant) const;
  std::string segment_path(const std::string& stream, const std::string& variant, const std::string& hour,
                           const std::string& file) const;
  // Any path below the base, to be opened with io::open_beneath.
  io::BeneathPath below_base(const std::string& relative) const;
  // A segment file, to be opened with io::open_beneath (never through a symlink).
  io::BeneathPath segment_file(const std::string& stream, const std::string& variant, const std::string& hour,
                               const std::string& file) const;

  // Builds the index: the newest hour directories below the base (of every stream,
  // variant and chat; as many as `max_cached_hours` holds) are read in libuv's
  // threadpool, newest first, two at a time, each watched before it is read. Lookups
  // meanwhile answer as before: an hour not indexed yet is read by the lookup itself.
  // Hours that appear later (a new hour of a stream being downloaded) are read the
  // same way as soon as inotify says so, so that a lookup of a recent hour reads no
  // directory once the index is built. Needs the watches (inotify); without them it
  // does nothing. The streams, variants and their hour lists are read here, on the
  // loop, before the daemon serves: a few small directories.
  // The newest `listed_hours` hours of each variant (and every hour that appears
  // later) get their listing made in the threadpool too, so that the first playlist
  // of the newest hours finds them made (cold = warm); the daemon passes what its
  // longest playlist spans. Older hours keep only their names until a lookup.
  void start_index(uv_loop_t* loop, std::size_t listed_hours = 0);
  // Stops reading more hours (shutdown): reads in flight finish, their results dropped.
  void stop_index();
  const IndexProgress& index_progress() const { return index_; }

  const StoreStats& stats() const { return stats_; }
  // Reports stats() in `metrics` (wubd_store_directory_scans_total, wubd_store_cache_hits_total),
  // refreshed before each render; `metrics` must outlive the store.
  void report_to(core::MetricsRegistry& metrics);

  // Logs a symlink below the base that was refused (a path relative to it), once per path.
  void warn_symlink(const std::string& relative);

 private:
  enum class EntryKind { Directories, Hours };
  struct CachedNames {
    EntryKind kind = EntryKind::Directories;
    int watch = -1;  // inotify watch: while there is one, events keep `names` true
    timespec mtime{};
    bool trusted = false;
    std::uint64_t scanned_in_snapshot = 0;
    std::vector<std::string> names;
    std::vector<core::Micros> hour_starts;  // of `names`, for hour directories
    bool indexing = false;                  // as CachedHour's
    std::map<std::string, bool> changed_while_indexing;
  };
  struct CachedHour {
    int watch = -1;        // as above, for `names`
    bool changed = false;  // `names` or `changes` moved since `listing` was made
    timespec mtime{};
    bool trusted = false;
    std::uint64_t scanned_in_snapshot = 0;
    std::uint64_t last_used = 0;
    // The regular files, sorted, as one text (core::join_names): what `listing` is
    // made of, and shared with it. Null until the directory is read.
    std::shared_ptr<const std::string> names;
    // What inotify said since `names` was made (a name's last word: there or gone),
    // merged into them when a lookup needs them: a burst of files renamed into an hour
    // costs one merge, not one copy of the text each. While the directory is read in
    // the threadpool (`indexing`), this is laid over what the read finds.
    std::map<std::string, bool> changes;
    std::shared_ptr<const HourListing> listing;
    std::optional<HourDigest> digest;  // of the names; reset whenever they change
    std::set<std::string> warned;      // bad names already logged once
    bool indexing = false;
    // Watched, and its names true: a lookup needs no directory read (the listing is
    // made from `names` if there is none yet, or they changed).
    bool known() const { return watch >= 0 && !indexing && names; }
  };
  struct DirectoryRead {             // what the threadpool found in one directory
    std::vector<std::string> names;  // subdirectories (or, for an hour, nothing: see below)
    std::vector<std::string> symlinks;
    int error = 0;  // errno opening the directory
    // An hour's regular files, sorted (core::join_names), and, for the hours a
    // playlist is likely to ask for first, their listing, made in the threadpool too.
    std::shared_ptr<const std::string> names_text;
    std::shared_ptr<core::HourListing> listing;
    std::vector<std::pair<std::string, std::string>> rejected;  // names no hour holds, and why
  };

  const CachedNames& cached_names(const std::string& relative, EntryKind kind);
  void evict_hours();
  // The sizes of files in a directory below the base (-1: gone), for listings; safe in
  // the threadpool.
  static core::FileSize sizes_in(int base_fd, const std::string& directory);
  // The hour's names with `cache.changes` merged in.
  const std::shared_ptr<const std::string>& names_now(CachedHour& cache);
  // A listing made of the hour's names (core::make_hour_listing), on the loop.
  void make_listing(CachedHour& cache, const std::string& path, const std::string& hour, core::Micros hour_start);
  void warn_rejected(CachedHour& cache, const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& rejected);
  int add_watch(const std::string& relative);
  void remove_watch(int& watch);
  void apply_change(const std::string& directory, std::string_view name, std::uint32_t mask);
  void forget_watches();  // after an overflow: every directory is read again
  // The index (store_index.cpp).
  // `list`: make the hour's listing in the threadpool too (the newest hours).
  void queue_for_index(const std::string& path, const std::string& hour, bool list);
  // Queues a variant's hours, the newest `listed_hours_` of them to be listed.
  void queue_hours_for_index(const std::string& variant_path, const std::vector<std::string>& hours);
  // A stream (kind Directories: its variants) or a variant (kind Hours) that appeared.
  void queue_directory_for_index(const std::string& path, EntryKind kind);
  void index_next();
  void on_hour_read(const std::string& path, DirectoryRead read);
  void on_directory_read(const std::string& path, DirectoryRead read);
  // What every index read's completion does first, for an hour or a directory of
  // names: the cache entry it was for, no longer indexing; nullptr when the entry is
  // gone, a lookup read it first, or the read failed (the entry dropped, said once).
  template <typename Cache>
  Cache* finish_index_read(std::map<std::string, Cache>& caches, const std::string& path, const DirectoryRead& read);
  // Drops the cache entry of `path` and its inotify watch, if there is one (a
  // directory gone, a read that failed, an hour evicted).
  template <typename Cache>
  void forget_entry(std::map<std::string, Cache>& caches, const std::string& path) {
    if (auto it = caches.find(path); it != caches.end()) {
      remove_watch(it->second.watch);
      caches.erase(it);
    }
  }
  // Reads one directory's subdirectories (in the threadpool).
  static DirectoryRead read_directory(int base_fd, const std::string& path, bool subdirectories);
  // Reads one hour directory's regular files into a names text, and, if `list`, makes
  // its listing (in the threadpool).
  static DirectoryRead read_hour(int base_fd, const std::string& path, const std::string& hour, bool list);
  // stat() of a directory below the base; false (and a log line unless it simply
  // does not exist) if it is not one.
  bool stat_directory(const std::string& relative, timespec& mtime);
  std::string base_dir_;
  int base_fd_ = -1;
  std::shared_ptr<const io::OwnedFd> index_base_;  // base_fd_'s duplicate, for reads in the threadpool
  std::unique_ptr<io::TaskGroup> index_tasks_;
  struct HourToIndex {
    std::string path;  // below the base
    std::string hour;  // its name, which orders the queue
    bool list = false;
  };
  std::vector<HourToIndex> index_queue_;      // oldest first
  std::size_t listed_hours_ = 0;              // per variant, listed as the index reads them
  std::vector<std::string> directory_queue_;  // streams and variants, read before hours
  int index_reads_in_flight_ = 0;
  std::uint64_t index_started_ms_ = 0;
  IndexProgress index_;
  int inotify_fd_ = -1;
  std::map<int, std::string> watched_;  // watch → directory below the base
  bool warned_watch_limit_ = false;
  std::set<std::string> warned_symlinks_;
  std::set<std::string> warned_names_;  // entries that are not hours, logged once
  std::set<std::string> extras_dirs_ = {kEmotesDirectory};
  static constexpr std::size_t kVariantsToProbe = 16;
  // inotify changes an hour keeps before they are merged into its names unasked.
  static constexpr std::size_t kChangesToMerge = 256;
  size_t max_cached_hours_;
  std::uint64_t use_counter_ = 0;
  std::uint64_t next_version_ = 1;
  std::map<std::string, core::Micros> segment_added_;  // "stream/variant" → last_segment_added
  std::uint64_t snapshot_ = 1;
  std::map<std::string, CachedNames> names_;
  std::map<std::string, CachedHour> hours_;
  std::shared_ptr<const HourListing> empty_hour_ = std::make_shared<const HourListing>();
  CachedNames empty_names_;
  StoreStats stats_;
  core::MetricsRegistry::Refresh refresh_;
};

}  // namespace wubd::store
