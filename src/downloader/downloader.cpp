#include "wubd/downloader/downloader.h"

#include <spdlog/spdlog.h>

#include "download_context.h"
#include "stream_manager.h"
#include "wubd/io/http_client.h"
#include "wubd/log/log.h"
#include "wubd/transfers/transfer_engine.h"

namespace wubd::downloader {
namespace {

DownloadMetrics make_metrics(core::MetricsRegistry& m) {
  return DownloadMetrics{
      m.counter("wubd_segments_downloaded_total", "Segments the downloader wrote, by type (full, suspect, partial)."),
      m.counter("wubd_segment_bytes_downloaded_total", "Bytes of segments the downloader wrote."),
      m.counter("wubd_playlist_fetches_total", "Master and media playlist fetches started."),
      m.counter("wubd_playlist_fetch_errors_total", "Playlist fetches that failed, by reason."),
      m.counter("wubd_download_timeouts_total", "Soft and hard timeouts of playlist fetches and segment downloads."),
      m.counter("wubd_segment_racing_attempts_total", "Extra segment attempts started after a soft timeout."),
      m.counter("wubd_segment_getters_gave_up_total", "Segments given up on (403/404, or too long failing)."),
      m.counter("wubd_ad_segments_skipped_total", "Ad segments seen in media playlists and not fetched."),
      m.counter("wubd_segment_date_skews_total",
                "PROGRAM-DATE-TIME jumps in a Twitch media playlist (the worker's later segments are suspect)."),
      m.gauge("wubd_stream_live", "1 while a stream's last master playlist said it is live, else 0."),
      m.counter("wubd_stream_went_live_total", "Times a stream went live (its first time included)."),
      m.counter("wubd_download_workers_started_total",
                "Stream workers started (a new one replaces a failing or expired media playlist URL)."),
      m.histogram("wubd_segment_seen_to_full_seconds",
                  "Time from a segment first appearing in a media playlist to its file being full.",
                  core::latency_buckets_seconds()),
      m.counter("wubd_segment_write_errors_total",
                "Segment writes the disk refused (ENOSPC, EIO, …), by stream and errno name."),
  };
}

}  // namespace

Downloader::Downloader(uv_loop_t* loop, DownloaderConfig config, core::MetricsRegistry& metrics, io::HttpClient& client,
                       transfers::TransferEngine& engine)
    : context_(
          std::make_unique<DownloadContext>(DownloadContext{loop, client, engine, config.base_dir, config.timings,
                                                            config.twitch, config.headers, make_metrics(metrics)})) {
  for (StreamConfig& stream : config.streams) {
    managers_.push_back(std::make_unique<StreamManager>(*context_, std::move(stream)));
  }
  core::GaugeFamily& workers = metrics.gauge("wubd_download_workers", "Stream workers polling a media playlist.");
  core::GaugeFamily& getters = metrics.gauge("wubd_segment_getters", "Segment getters working on a segment.");
  core::GaugeFamily& transfers =
      metrics.gauge("wubd_download_transfers", "HTTP transfers of the downloader in flight.");
  refresh_ = metrics.add_refresh([this, &workers, &getters, &transfers] {
    DownloaderStatus now = status();
    workers.set({}, double(now.workers));
    getters.set({}, double(now.getters));
    transfers.set({}, double(now.transfers));
  });
}

Downloader::~Downloader() = default;

void Downloader::start() {
  for (auto& manager : managers_) manager->start();
}

void Downloader::stop() {
  context_->stopping = true;
  for (auto& manager : managers_) manager->stop();
  managers_.clear();
}

DownloaderStatus Downloader::status() const {
  DownloaderStatus status;
  for (const auto& manager : managers_) {
    status.workers += manager->worker_count();
    status.getters += manager->getter_count();
  }
  status.transfers = context_->engine.active();
  return status;
}

std::vector<StreamInfo> Downloader::streams() const {
  std::vector<StreamInfo> out;
  for (const auto& manager : managers_) out.push_back(manager->info());
  return out;
}

std::vector<WorkerInfo> Downloader::workers() const {
  std::vector<WorkerInfo> out;
  for (const auto& manager : managers_) {
    for (WorkerInfo& worker : manager->worker_infos()) out.push_back(std::move(worker));
  }
  return out;
}

bool Downloader::refresh(const std::string& stream) {
  for (const auto& manager : managers_) {
    if (manager->stream() != stream) continue;
    manager->fetch_master();
    return true;
  }
  return false;
}

}  // namespace wubd::downloader
