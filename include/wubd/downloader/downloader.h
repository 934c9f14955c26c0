#pragma once

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <uv.h>

#include "wubd/core/download_policy.h"
#include "wubd/core/metrics.h"

// The downloader: keeps every segment of every chosen variant of some live HLS
// streams on disk, through flaky origins, expiring URLs, restarts and stalls.
// README.md ("How it behaves") has the rules; core/download_policy holds the decisions.
namespace wubd::io {
class HttpClient;
}
namespace wubd::transfers {
class TransferEngine;
}

namespace wubd::downloader {

// Where Twitch's front doors are and how to knock: flags, so that operators can
// follow Twitch's changes without a rebuild and tests can use a local fake. The
// defaults are what streamlink and wubloader send since Twitch's change of
// 2025-11-11 (persisted query ed230aa1…, playerType "embed", platform "site").
struct TwitchConfig {
  std::string gql_url = "https://gql.twitch.tv/gql";
  // Usher's master playlist; {channel} is replaced by the lower-cased channel. Empty:
  // the official URL of `usher_version`.
  std::string usher_url;
  int usher_version = 2;  // 2: /api/v2/ with platform=web (framerate in the master); 1: the old one
  std::string client_id = "kimne78kx3ncx6brgo4mv6wki5h1ko";
  std::string query_hash = "ed230aa1e33e07eebb8928504583da78a5173989fadfb1ac94be06a04f3cdbe9";
  std::string player_type = "embed";
  std::string platform = "site";
  std::string codecs = "av1,h265,h264";
  // More PlaybackAccessToken variables, or other values for the ones above
  // (--twitch-access-token-param KEY=VALUE); `true`/`false` are sent as booleans.
  std::vector<std::pair<std::string, std::string>> token_params;
  // An OAuth token (from --twitch-auth-file): sent to GQL only, never to usher or
  // the segment servers.
  std::string oauth_token;
  // How often a channel that is not live is asked again (wubloader: 20 s).
  double offline_interval_s = 20;

  std::string usher_url_for(const std::string& login) const;
};

struct StreamConfig {
  std::string name;                   // the stream's directory under the base dir
  std::string provider = "hls";       // hls or twitch
  std::string url;                    // hls: a master or media playlist URL
  std::vector<std::string> variants;  // empty: every variant the master lists
};

struct DownloaderConfig {
  std::string base_dir;
  std::vector<StreamConfig> streams;
  TwitchConfig twitch;
  core::DownloadTimings timings;
  std::vector<std::string> headers;  // extra "Name: value" headers on every request
};

// What the operator sees in /metrics and the demo's progress line.
struct DownloaderStatus {
  std::size_t workers = 0;
  std::size_t getters = 0;
  std::size_t transfers = 0;
};

// One stream as the console shows it.
struct StreamInfo {
  std::string stream;
  std::string state;  // live, offline, refused, starting
  std::size_t workers = 0;
  std::size_t getters = 0;
  std::string last_error;
};

// One worker (one variant's playlist URL) as the console shows it.
struct WorkerInfo {
  std::string stream;
  std::string variant;
  std::uint64_t id = 0;
  double url_age_seconds = 0;
  std::string state;  // polling, retiring (a newer worker took over), stopped
  std::size_t getters = 0;
  std::string last_segment;  // the newest segment URI of its last playlist
};

class StreamManager;
struct DownloadContext;

// One manager per stream, on one loop. Playlists are fetched with `client`; segments
// go through `engine`, which applies per-source limits and keeps the records. Both
// must outlive the downloader.
class Downloader {
 public:
  Downloader(uv_loop_t* loop, DownloaderConfig config, core::MetricsRegistry& metrics, io::HttpClient& client,
             transfers::TransferEngine& engine);
  ~Downloader();

  void start();
  // Stops fetching at once: segments in flight with data become `partial`, the rest
  // are removed. Its timers close on the next loop iteration.
  void stop();

  DownloaderStatus status() const;
  std::vector<StreamInfo> streams() const;
  std::vector<WorkerInfo> workers() const;
  // Fetches the stream's master playlist now (the console's `refresh`); false if
  // there is no such stream.
  bool refresh(const std::string& stream);

 private:
  std::unique_ptr<DownloadContext> context_;
  std::vector<std::unique_ptr<StreamManager>> managers_;
  core::MetricsRegistry::Refresh refresh_;  // its gauges, set before each /metrics
};

}  // namespace wubd::downloader
