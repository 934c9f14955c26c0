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
// DESIGN.md §2 "Downloader" has the rules; core/download_policy holds the decisions.
namespace wubd::io {
class HttpClient;
}
namespace wubd::transfers {
class TransferEngine;
}

namespace wubd::downloader {

// Where Twitch's front doors are and how to knock: flags, so that operators can
// follow Twitch's changes without a rebuild and tests can use a local fake.
struct TwitchConfig {
  std::string gql_url = "https://gql.twitch.tv/gql";
  std::string usher_url = "https://usher.ttvnw.net/api/channel/hls/{channel}.m3u8";
  std::string client_id = "kimne78kx3ncx6brgo4mv6wki5h1ko";
  std::string query_hash = "0828119ded1c13477966434e15800ff57ddacf13ba1911c129dc2200705b0712";
  std::string player_type = "site";
  std::string codecs = "av1,h265,h264";
};

struct StreamConfig {
  std::string name;              // the stream's directory under the base dir
  std::string provider = "hls";  // hls or twitch
  std::string url;               // hls: a master or media playlist URL
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

 private:
  std::unique_ptr<DownloadContext> context_;
  std::vector<std::unique_ptr<StreamManager>> managers_;
};

}  // namespace wubd::downloader
