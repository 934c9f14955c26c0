#include "stream_worker.h"

#include "wubd/io/lifetime.h"

#include <set>

#include <spdlog/spdlog.h>

#include "downloader_log.h"
#include "provider.h"
#include "wubd/core/hls_playlist.h"
#include "wubd/log/log.h"

namespace wubd::downloader {
StreamWorker::StreamWorker(DownloadContext& context, std::uint64_t id, std::string stream, std::string variant,
                           std::string url, core::Micros url_fetched_at, bool twitch, Callbacks callbacks)
    : context_(context),
      id_(id),
      stream_(std::move(stream)),
      variant_(std::move(variant)),
      url_(std::move(url)),
      url_fetched_at_(url_fetched_at),
      callbacks_(std::move(callbacks)),
      poll_timer_(context.loop),
      soft_timer_(context.loop),
      twitch_(twitch) {}

StreamWorker::~StreamWorker() { stop_all(); }

std::string StreamWorker::where() const {
  return stream_ + "/" + variant_ + " worker " + std::to_string(id_) + " " + url_;
}

void StreamWorker::start() {
  log::Fields fields{{"stream", stream_}, {"variant", variant_}, {"url", url_}};
  polling_ = true;
  log().info("{}: started", where());
  fetch();
}

void StreamWorker::fetch() {
  if (!polling_ || context_.stopping) return;
  core::Micros started = context_.now();
  context_.metrics.playlist_fetches.inc({{"stream", stream_}, {"kind", "media"}});
  // At the soft timeout a replacement is asked for while this fetch keeps waiting;
  // the hard timeout fails the fetch.
  soft_timer_.start(DownloadContext::to_ms(context_.timings.playlist_soft_timeout), [this] {
    context_.metrics.timeouts.inc({{"operation", "playlist"}, {"kind", "soft"}});
    want_replacement("media playlist passed its soft timeout");
  });
  io::FetchRequest request;
  request.url = url_;
  request.headers = context_.headers;
  request_ = fetch_text(context_, std::move(request), DownloadContext::to_ms(context_.timings.playlist_hard_timeout),
                        [this, started](const TextResult& text) {
                          request_ = io::RequestId::None;
                          soft_timer_.stop();
                          on_playlist(started, text);
                        });
}

void StreamWorker::on_playlist(core::Micros fetch_started, const TextResult& text) {
  log::Fields fields{{"stream", stream_}, {"variant", variant_}, {"url", url_}};
  core::PlaylistOutcome outcome = core::PlaylistOutcome::Failed;
  std::string error;
  std::optional<core::Playlist> playlist;
  if (!text.complete) {
    error = text.error;
    if (text.timed_out) context_.metrics.timeouts.inc({{"operation", "playlist"}, {"kind", "hard"}});
  } else if (text.status == 403 || text.status == 404) {
    outcome = core::PlaylistOutcome::Gone;
    error = "HTTP " + std::to_string(text.status);
  } else if (text.status < 200 || text.status >= 300) {
    error = "HTTP " + std::to_string(text.status);
  } else if (auto parsed = core::parse_playlist(text.body); !parsed) {
    error = "bad media playlist: " + parsed.error().message;
  } else if (parsed->kind != core::PlaylistKind::Media) {
    error = "expected a media playlist, got a master playlist";
  } else {
    playlist = std::move(*parsed);
    outcome = playlist->media.endlist ? core::PlaylistOutcome::EndList : core::PlaylistOutcome::Ok;
  }
  if (!error.empty()) {
    std::string reason = outcome == core::PlaylistOutcome::Gone    ? "gone"
                         : text.timed_out                          ? "timeout"
                         : !text.complete                          ? "network"
                         : text.status < 200 || text.status >= 300 ? "status"
                                                                   : "parse";
    context_.metrics.playlist_errors.inc({{"stream", stream_}, {"kind", "media"}, {"reason", reason}});
    log().warn("{}: media playlist fetch failed: {}", where(), error);
  }
  if (playlist) {
    // A tag skipped in every poll is logged once, not every two seconds.
    for (const std::string& warning : playlist->media.warnings) {
      if (warned_.size() < 32 && warned_.insert(warning).second) log().warn("{}: {}", where(), warning);
    }
    last_playlist_ = playlist->media;
    start_getters(playlist->media);
  }
  bool has_content = false;
  if (playlist) {
    for (const core::HlsSegment& segment : playlist->media.segments) has_content |= !core::is_ad(segment, twitch_);
  }
  core::WorkerDecision decision = core::on_playlist_outcome({had_success_, reported_working_}, outcome, has_content);
  if (playlist) had_success_ = true;
  if (decision.report_working) {
    reported_working_ = true;
    if (callbacks_.working) callbacks_.working(*this);
  }
  if (outcome == core::PlaylistOutcome::EndList) log().info("{}: stream ended (ENDLIST)", where());
  if (decision.request_replacement) want_replacement(error.empty() ? "stream ended" : error.c_str());
  if (!decision.keep_polling) {
    end_polling();
    return;
  }
  schedule_next(fetch_started);
}

void StreamWorker::start_getters(const core::MediaPlaylist& playlist) {
  std::vector<std::optional<core::Micros>> starts = core::segment_start_times(playlist);
  std::vector<bool> ads;
  for (const core::HlsSegment& segment : playlist.segments) ads.push_back(core::is_ad(segment, twitch_));
  std::vector<core::Micros> skews = core::date_skews(playlist, ads);
  std::set<std::string> current;
  for (std::size_t i = 0; i < playlist.segments.size(); ++i) {
    const core::HlsSegment& segment = playlist.segments[i];
    // Keyed by the URI as written: one playlist URL, so the same text is the same
    // segment, and only new segments pay for resolving.
    current.insert(segment.uri);
    if (getters_.count(segment.uri)) continue;
    if (ads[i]) {
      // Stitched ads carry real stream times: stored, they would pass for the stream.
      context_.metrics.ad_segments.inc({{"stream", stream_}, {"variant", variant_}});
      log().debug("{}: skipping an ad segment ({}): {}", where(), segment.title.empty() ? "marked" : segment.title,
                  segment.uri);
      getters_.emplace(segment.uri, nullptr);
      continue;
    }
    if (twitch_ && !suspect_ && (skews[i] > core::kMaxDateSkew || skews[i] < -core::kMaxDateSkew)) {
      // Every later date of this playlist is out by the jump: keep them, but as
      // `suspect`, and get a fresh URL (which has been seen to put it right).
      suspect_ = true;
      context_.metrics.date_skews.inc({{"stream", stream_}, {"variant", variant_}});
      log().warn("{}: PROGRAM-DATE-TIME jumped by {} ms at {}; later segments of this worker are suspect", where(),
                 skews[i] / core::kMicrosPerMilli, segment.uri);
      want_replacement("PROGRAM-DATE-TIME jumped");
    }
    std::shared_ptr<const std::string> init;
    if (!segment.map_uri.empty()) {
      auto map_url = io::resolve_url(url_, segment.map_uri);
      if (!map_url) {
        log().warn("{}: skipping segment with a bad EXT-X-MAP: {}", where(), map_url.error().message);
        getters_.emplace(segment.uri, nullptr);
        continue;
      }
      auto known = maps_.find(*map_url);
      if (known == maps_.end()) {
        fetch_map(*map_url);  // the segment starts once its init section is in
        continue;
      }
      init = known->second;
    }
    auto resolved = io::resolve_url(url_, segment.uri);
    if (!resolved) {
      log().warn("{}: skipping segment: {}", where(), resolved.error().message);
      getters_.emplace(segment.uri, nullptr);
      continue;
    }
    if (!starts[i]) {
      // wubloader refuses these too: without a time the file has no name.
      log().warn("{}: segment {} has no PROGRAM-DATE-TIME to date it; skipped", where(), *resolved);
      getters_.emplace(segment.uri, nullptr);
      continue;
    }
    core::Micros start = *starts[i];
    if (callbacks_.claim_segment && !callbacks_.claim_segment(start)) {
      getters_.emplace(segment.uri, nullptr);  // another worker's getter has it
      continue;
    }
    SegmentJob job;
    job.stream = stream_;
    job.variant = variant_;
    job.url = *resolved;
    job.start = start;
    job.duration = segment.duration;
    job.init = std::move(init);
    job.suspect = suspect_;
    auto getter =
        std::make_unique<SegmentGetter>(context_, std::move(job), [this, start, uri = segment.uri](bool got_full) {
          // Inside the getter's own callback: it is freed on the next loop turn; its URI
          // stays, so that it is not fetched again.
          io::defer_delete(context_.loop, std::move(getters_.at(uri)));
          if (callbacks_.segment_finished) callbacks_.segment_finished(start, got_full);
        });
    SegmentGetter* raw = getter.get();
    getters_.emplace(segment.uri, std::move(getter));
    raw->start();
  }
  // Forget URIs that left the playlist and whose getters are done.
  for (auto it = getters_.begin(); it != getters_.end();) {
    bool finished = !it->second || it->second->done();
    if (finished && !current.count(it->first)) {
      it = getters_.erase(it);
    } else {
      ++it;
    }
  }
}

void StreamWorker::fetch_map(const std::string& url) {
  if (map_fetches_.count(url) || !polling_) return;
  io::FetchRequest request;
  request.url = url;
  request.headers = context_.headers;
  map_fetches_[url] =
      fetch_text(context_, std::move(request), DownloadContext::to_ms(context_.timings.segment_headers_hard_timeout),
                 [this, url](const TextResult& text) {
                   map_fetches_.erase(url);
                   if (!text.complete || text.status < 200 || text.status >= 300) {
                     log().warn("{}: init section {} failed ({}); trying again at the next poll", where(), url,
                                text.complete ? "HTTP " + std::to_string(text.status) : text.error);
                     return;
                   }
                   log().info("{}: init section {} ({} bytes)", where(), url, text.body.size());
                   maps_[url] = std::make_shared<const std::string>(text.body);
                   if (last_playlist_ && polling_) start_getters(*last_playlist_);
                 });
}

void StreamWorker::schedule_next(core::Micros fetch_started) {
  const core::DownloadTimings& t = context_.timings;
  core::Micros wait = core::wait_before_next(
      context_.now(), fetch_started, core::jittered(t.playlist_interval, t.jitter_fraction, context_.unit_random()));
  poll_timer_.start(DownloadContext::to_ms(wait), [this] { fetch(); });
}

void StreamWorker::want_replacement(const char* why) {
  if (replacement_requested_) return;
  replacement_requested_ = true;
  log().info("{}: asking for a new worker: {}", where(), why);
  if (callbacks_.replacement_wanted) callbacks_.replacement_wanted(*this);
}

void StreamWorker::end_polling() {
  if (!halt_polling()) return;
  log().info("{}: stopped polling", where());
  if (callbacks_.stopped) callbacks_.stopped(*this);
}

void StreamWorker::stop() {
  if (halt_polling()) log().info("{}: retired", where());
}

bool StreamWorker::halt_polling() {
  if (!polling_) return false;
  polling_ = false;
  poll_timer_.stop();
  soft_timer_.stop();
  if (request_ != io::RequestId::None) context_.client.cancel(request_);
  request_ = io::RequestId::None;
  for (const auto& [url, request] : std::exchange(map_fetches_, {})) context_.client.cancel(request);
  return true;
}

void StreamWorker::stop_all() {
  stop();
  for (auto& [uri, getter] : getters_) {
    if (getter) getter->stop();
  }
  getters_.clear();
}

std::size_t StreamWorker::getter_count() const {
  std::size_t n = 0;
  for (const auto& [uri, getter] : getters_) n += getter && !getter->done();
  return n;
}

}  // namespace wubd::downloader
