#include "wubd/backfiller/backfiller.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <spdlog/spdlog.h>

#include "backfill_log.h"
#include "peer_backfill.h"
#include "wubd/core/node_list.h"
#include "wubd/io/http_client.h"
#include "wubd/log/log.h"

namespace wubd::backfiller {
namespace {

// The families live in the registry, which outlives the backfiller; two daemons in
// one process (tests) have two registries, so two sets.
std::unique_ptr<BackfillMetrics> make_backfill_metrics(core::MetricsRegistry& m) {
  return std::make_unique<BackfillMetrics>(BackfillMetrics{
      m.counter("wubd_segments_backfilled_total", "Segments copied from peers, hash-checked."),
      m.counter("wubd_backfill_files_total",
                "Other files copied from peers, by kind: chat_batch (hash-checked), tombstone, extra."),
      m.counter("wubd_backfill_bytes_total", "Bytes of segments copied from peers."),
      m.counter("wubd_backfill_errors_total",
                "Backfill failures by peer and reason (listing, bad_listing, download, write)."),
      m.counter("wubd_hash_mismatches_total", "Segments from peers whose bytes did not match the hash in their name."),
      m.counter("wubd_backfill_listing_requests_total", "Listing requests made to peers."),
      m.gauge("wubd_backfill_last_success_timestamp_seconds", "When the last pass without errors ended, per peer."),
      m.counter("wubd_backfill_passes_total",
                "Backfill passes ended, by peer, kind (recent, full) and result (ok, errors)."),
  });
}

// The peers file's nodes, by name; a bare URL is keyed by itself, so that two
// nodes on one host (two ports) stay two.
std::map<std::string, std::string> read_peers_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  std::map<std::string, std::string> nodes;
  for (const core::NodeLine& node : core::parse_node_lines(text.str())) {
    nodes[node.name.empty() ? node.url : node.name] = node.url;
  }
  return nodes;
}

}  // namespace

std::string normalize_peer_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.find("://") == std::string::npos) url = "http://" + url;
  return url;
}

Backfiller::Backfiller(uv_loop_t* loop, BackfillConfig config, store::SegmentStore& store, io::HttpClient& client,
                       transfers::TransferEngine& engine, core::MetricsRegistry& metrics)
    : loop_(loop),
      config_(std::move(config)),
      store_(store),
      client_(client),
      engine_(engine),
      peer_metrics_(make_backfill_metrics(metrics)),
      disk_(metrics.counter("wubd_backfill_write_errors_total",
                            "Backfilled files the disk refused to write (ENOSPC, EIO, …), by stream and errno name."),
            log::Module::Backfill, "backfilled files") {}

Backfiller::~Backfiller() { stop(); }

void Backfiller::start() {
  refresh_peers();
  if (!config_.peers_file.empty()) {
    // The file is checked every few seconds; a change adds and removes peers.
    peers_file_timer_ = std::make_unique<io::Timer>(loop_);
    peers_file_timer_->start(
        2000, [this] { refresh_peers(); }, 2000);
  }
}

void Backfiller::stop() {
  if (peers_file_timer_) peers_file_timer_->stop();
  peers_.clear();
}

std::vector<std::string> Backfiller::peers() const {
  std::vector<std::string> names;
  for (const auto& [name, peer] : peers_) names.push_back(name);
  return names;
}

std::vector<PeerInfo> Backfiller::peer_infos() const {
  std::vector<PeerInfo> out;
  for (const auto& [name, peer] : peers_) out.push_back(peer->info());
  return out;
}

std::vector<std::string> Backfiller::backfill_now(const std::string& peer) {
  std::vector<std::string> said;
  for (const auto& [name, backfill] : peers_) {
    if (!peer.empty() && name != normalize_peer_url(peer)) continue;
    said.push_back(name + ": " + (backfill->run_now() ? "full pass started" : "a pass is already running"));
  }
  if (said.empty()) said.push_back("no such peer: " + peer);
  return said;
}

void Backfiller::reload_peers(std::vector<std::string> peers, std::string peers_file, std::string node_name) {
  bool had_file = !config_.peers_file.empty();
  config_.peers = std::move(peers);
  config_.peers_file = std::move(peers_file);
  config_.node_name = std::move(node_name);
  peers_file_mtime_ = {};  // read it again whatever its mtime
  if (!had_file && !config_.peers_file.empty()) {
    peers_file_timer_ = std::make_unique<io::Timer>(loop_);
    peers_file_timer_->start(
        2000, [this] { refresh_peers(); }, 2000);
  }
  refresh_peers();
}

void Backfiller::refresh_peers() {
  std::vector<std::string> wanted = config_.peers;
  std::string this_node = config_.node_name;
  if (this_node.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) this_node = host;
  }
  if (!config_.peers_file.empty()) {
    struct stat st {};
    if (::stat(config_.peers_file.c_str(), &st) == 0) {
      bool changed = st.st_mtim.tv_sec != peers_file_mtime_.tv_sec || st.st_mtim.tv_nsec != peers_file_mtime_.tv_nsec;
      if (!changed && !peers_.empty()) return;
      peers_file_mtime_ = st.st_mtim;
      for (const auto& [name, url] : read_peers_file(config_.peers_file)) {
        // wubloader skips the node named like this one, and names a bare URL by its host.
        std::string node = name;
        if (name == url) {
          auto host = io::url_hostname(normalize_peer_url(url));
          node = host ? *host : "";
        }
        if (!this_node.empty() && node == this_node) {
          log().debug("peers file: {} ({}) is this node; not backfilling from it", url, node);
          continue;
        }
        wanted.push_back(url);
      }
    } else if (peers_file_mtime_.tv_sec == 0) {
      log().warn("peers file {} cannot be read; using --peer only", config_.peers_file);
      peers_file_mtime_.tv_sec = 1;  // warned once
    }
  }
  std::set<std::string> now;
  for (const std::string& raw : wanted) {
    std::string peer = normalize_peer_url(raw);
    bool self = false;
    for (const std::string& own : config_.self_urls) self = self || normalize_peer_url(own) == peer;
    if (self) {
      log().info("peer {} is this node; not backfilling from it", peer);
      continue;
    }
    now.insert(peer);
  }
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (!now.count(it->first)) {
      log().info("peer {} removed", it->first);
      it = peers_.erase(it);
    } else {
      ++it;
    }
  }
  for (const std::string& peer : now) {
    if (peers_.count(peer)) continue;
    auto backfill =
        std::make_unique<PeerBackfill>(loop_, config_, peer, store_, client_, engine_, *peer_metrics_, disk_);
    backfill->start();
    peers_.emplace(peer, std::move(backfill));
  }
}

}  // namespace wubd::backfiller
