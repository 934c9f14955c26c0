#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "wubd/core/backfill_plan.h"
#include "wubd/core/metrics.h"
#include "wubd/core/time.h"
#include "wubd/store/disk_trouble.h"

// The backfiller: fills what this node missed from its peers (wubd nodes or wubloader
// restreamers: same API), verifying every byte against the hash in its name, so one
// bad or dead peer costs only its own transfers. README.md ("Backfiller") has the rules.
namespace wubd::io {
class HttpClient;
class Timer;
}  // namespace wubd::io
namespace wubd::store {
class SegmentStore;
}
namespace wubd::transfers {
class TransferEngine;
}

namespace wubd::backfiller {

struct BackfillConfig {
  std::string base_dir;
  std::vector<std::string> peers;      // base URLs, e.g. http://10.0.0.2:8000
  std::string peers_file;              // core/node_list.h's shape; re-read when it changes
  std::string node_name;               // lines of the peers file naming this node are skipped (default: host name)
  std::vector<std::string> extras;     // extras directories to copy (store/extras.h)
  std::vector<std::string> self_urls;  // our own addresses: never a peer
  std::vector<std::string> streams;    // empty: every stream a peer lists
  std::vector<std::string> variants;   // empty: every variant
  core::Micros fill_wait = 5 * 60 * core::kMicrosPerSecond;
  core::Micros full_fill_wait = 3 * core::kMicrosPerHour;
  core::Micros recent_cutoff = 60 * core::kMicrosPerSecond;
  int recent_hours = 3;  // what a "recent" pass covers
  // What a full pass covers: every hour a peer lists (both empty/0), an explicit list
  // of hours, or the last N hours.
  std::vector<std::string> full_pass_hours;
  int full_pass_last_hours = 0;
  core::FillOrder order = core::FillOrder::Random;
  int peer_concurrency = 4;  // downloads at once from one peer (the engine's limit)
  // Whether this node keeps an hour (a stream's hour start); an hour it does not keep
  // (retention deletes it) is never copied from a peer. Empty: every hour.
  std::function<bool(const std::string& stream, core::Micros hour)> keeps_hour;
};

// One peer as the console shows it.
struct PeerInfo {
  std::string peer;
  std::string state;         // passing (a pass is running) or waiting
  double last_pass_end = 0;  // unix seconds; 0: none yet
  std::string last_pass;     // "full pass: 3 fetched, 0 failed, 0 errors in 0.12 s"
  double next_pass_in = 0;   // seconds, while waiting
  std::size_t errors = 0;    // passes that had errors or failures, since start
};

class PeerBackfill;
struct BackfillMetrics;

// Owns one PeerBackfill per peer; peers come and go with the peers file.
class Backfiller {
 public:
  // Everything passed by reference must outlive the backfiller.
  Backfiller(uv_loop_t* loop, BackfillConfig config, store::SegmentStore& store, io::HttpClient& client,
             transfers::TransferEngine& engine, core::MetricsRegistry& metrics);
  ~Backfiller();

  void start();
  // Stops every pass; downloads in flight are abandoned and their temp files removed.
  void stop();

  std::vector<std::string> peers() const;
  std::vector<PeerInfo> peer_infos() const;
  // Starts a full pass now on `peer` (every peer if empty) unless one is running;
  // returns what it did, per peer, for the console.
  std::vector<std::string> backfill_now(const std::string& peer);

  // See BackfillConfig::keeps_hour; set before start().
  void set_hour_filter(std::function<bool(const std::string& stream, core::Micros hour)> keeps_hour) {
    config_.keeps_hour = std::move(keeps_hour);
  }

  // SIGHUP: new --peer list, peers file and node name; the file is read again now.
  void reload_peers(std::vector<std::string> peers, std::string peers_file, std::string node_name);

 private:
  void refresh_peers();

  uv_loop_t* loop_;
  BackfillConfig config_;
  store::SegmentStore& store_;
  io::HttpClient& client_;
  transfers::TransferEngine& engine_;
  // The peers' counters, in this daemon's registry (every PeerBackfill adds to them).
  std::unique_ptr<BackfillMetrics> peer_metrics_;
  // The disk's refusals, said once per stream for every peer's copies together.
  store::DiskTrouble disk_;
  std::unique_ptr<io::Timer> peers_file_timer_;
  timespec peers_file_mtime_{};
  std::map<std::string, std::unique_ptr<PeerBackfill>> peers_;
};

// A peer URL as compared and used: no trailing slash.
std::string normalize_peer_url(std::string url);

}  // namespace wubd::backfiller
