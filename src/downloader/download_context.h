#pragma once

#include <random>
#include <string>
#include <vector>

#include <uv.h>

#include "wubd/core/download_policy.h"
#include "wubd/core/metrics.h"
#include "wubd/downloader/downloader.h"
#include "wubd/io/http_client.h"
#include "wubd/store/disk_trouble.h"
#include "wubd/transfers/transfer_engine.h"

// What every part of the downloader shares: the loop, the HTTP client and the
// transfer engine, the timings,
// the metrics and a random source for jitter. Owned by the Downloader, which outlives
// every manager, worker and getter.
namespace wubd::downloader {

struct DownloadMetrics {
  core::CounterFamily& segments;          // {stream, variant, type}
  core::CounterFamily& segment_bytes;     // {stream, variant}
  core::CounterFamily& playlist_fetches;  // {stream, kind}
  core::CounterFamily& playlist_errors;   // {stream, kind, reason}
  core::CounterFamily& timeouts;          // {operation, kind}
  core::CounterFamily& racing_attempts;   // {stream, variant}
  core::CounterFamily& getters_gave_up;   // {stream, variant}
  core::CounterFamily& ad_segments;       // {stream, variant}: ad segments seen and not fetched
  core::CounterFamily& date_skews;        // {stream, variant}: PROGRAM-DATE-TIME jumps
  core::GaugeFamily& live;                // {stream}: 1 while the master playlist says live
  core::CounterFamily& went_live;         // {stream}: times it became live (the first included)
  core::CounterFamily& workers_started;   // {stream, variant}
  // From a worker first seeing a segment in its playlist to the segment being `full`.
  core::HistogramFamily& seen_to_full;  // {stream}
  core::CounterFamily& write_errors;    // {stream, error}: segment writes the disk refused
};

struct DownloadContext {
  uv_loop_t* loop;
  io::HttpClient& client;             // playlists
  transfers::TransferEngine& engine;  // segments
  std::string base_dir;
  core::DownloadTimings timings;
  TwitchConfig twitch;
  std::vector<std::string> headers;
  DownloadMetrics metrics;
  store::DiskTrouble disk{metrics.write_errors, log::Module::Downloader, "segments"};
  std::mt19937_64 random{std::random_device{}()};
  bool stopping = false;

  // Monotonic loop time, for every interval and timeout decision.
  core::Micros now() const { return core::Micros(uv_now(loop)) * core::kMicrosPerMilli; }
  // Wall-independent and sub-millisecond, for measuring latencies (uv_now is the
  // loop's cached millisecond clock).
  static core::Micros precise_now() { return core::Micros(uv_hrtime() / 1000); }
  double unit_random() { return std::uniform_real_distribution<double>(0.0, 1.0)(random); }
  static std::uint64_t to_ms(core::Micros t) { return t <= 0 ? 0 : std::uint64_t((t + 999) / 1000); }
};

// Playlists are small; anything past this is not a playlist.
inline constexpr std::size_t kMaxPlaylistBytes = 8 << 20;

}  // namespace wubd::downloader
