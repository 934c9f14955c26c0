#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "wubd/core/cut_plan.h"
#include "wubd/core/live_playlist.h"
#include "wubd/core/live_window.h"
#include "wubd/core/metrics.h"
#include "wubd/core/range_limits.h"
#include "wubd/core/routes.h"
#include "wubd/core/url.h"
#include "wubd/io/http_server.h"
#include "wubd/media/media_probe.h"
#include "wubd/restreamer/cut_cache.h"
#include "wubd/restreamer/cut_slots.h"
#include "wubd/restreamer/job_queue.h"
#include "wubd/restreamer/playlist_cache.h"
#include "wubd/store/range_holds.h"
#include "wubd/store/segment_store.h"

// The HTTP API, read-only part: /files listings, HLS playlists, segment bytes, cuts
// and /metrics, answered from the store on the loop.
namespace wubd::restreamer {

struct RestreamerLimits {
  // Rendered media playlists are cached up to this many bytes.
  std::size_t playlist_cache_bytes = 16 << 20;
  // Cuts that encode (fast, smart, mpegts, mp4) running at once; more get 503 with
  // Retry-After.
  std::size_t max_full_cuts = 4;
  // The longest range a media or master playlist covers (--max-playlist-hours).
  core::RangeCap playlist_cap{24 * core::kMicrosPerHour, "--max-playlist-hours"};
  // At a live playlist's edge, a hole this close to the newest segment ends the
  // playlist until it settles (--live-settle; core/live_playlist.h).
  core::Micros live_settle = 15 * core::kMicrosPerSecond;
  // The longest range a cut covers, its ranges together (--max-cut-hours).
  core::RangeCap cut_cap{6 * core::kMicrosPerHour, "--max-cut-hours"};
  // Seekable MP4 clips kept on disk (--cut-cache-bytes).
  std::uint64_t cut_cache_bytes = 2ULL << 30;
  // Frames and thumbnails made at once (--max-frame-jobs), and how many more may wait
  // their turn before a request gets 503.
  std::size_t max_frame_jobs = 4;
  std::size_t max_frame_jobs_waiting = 64;
  // Named thumbnail templates: NAME.png and NAME.json (--thumbnail-templates); empty:
  // GET /thumbnail answers 501.
  std::string thumbnail_templates;
  // Rendered waveforms kept (bytes, least recently used first).
  std::size_t waveform_cache_bytes = 16 << 20;
};

class WorkBody;

class Restreamer {
 public:
  // `store` and `metrics` must outlive the restreamer; /metrics renders `metrics`.
  // Cuts run on `loop` (ffmpeg children, threadpool work).
  Restreamer(uv_loop_t* loop, store::SegmentStore& store, core::MetricsRegistry& metrics, RestreamerLimits limits = {});
  ~Restreamer();

  // Cuts that encode running now.
  std::size_t active_full_cuts() const;

  // The HttpServer handler: routes, validates and answers.
  void handle(const io::HttpRequest& request, io::HttpResponse& response);
  // Answers GET /jobs; without one, /jobs is 404.
  using JobsHandler = std::function<void(const core::QueryParams&, io::HttpResponse&)>;
  void set_jobs_handler(JobsHandler handler) { jobs_handler_ = std::move(handler); }
  // Renders GET / (an HTML page saying what this node is); without one, / is 404.
  void set_index(std::function<std::string()> index) { index_ = std::move(index); }
  // Where cuts hold their ranges while they run, so retention deletes nothing under
  // them; without one, cuts hold nothing. `holds` must outlive the restreamer.
  void set_range_holds(store::RangeHolds* holds) { range_holds_ = holds; }

  // The HttpServer observer: request counts and latencies per endpoint.
  void observe(const io::HttpRequest& request, const io::ResponseRecord& record);

  // HttpLimits::body_limit: how large a body each request may send (a thumbnail's
  // template PNG, /generate_videos' JSON; nothing else takes one).
  static std::uint64_t body_limit(const io::HttpRequest& head);

 private:
  void list_names(io::HttpResponse& response, const std::vector<std::string>& names);
  void list_names(io::HttpResponse& response, const std::vector<std::string_view>& names);
  void master_playlist(const core::Route& route, const core::QueryParams& query, io::HttpResponse& response);
  void media_playlist(const core::Route& route, const core::QueryParams& query, io::HttpResponse& response);
  // The segments a media playlist of [start, end) lists: the best ones, and for a
  // live playlist the settle window and the variant's held holes applied; `settling`
  // says the settle window ended it early (then it is not cached).
  std::vector<core::SegmentOrHole> playlist_segments(const core::Route& route, core::Micros start, core::Micros end,
                                                     bool& settling);
  // The open-ended playlist (no start, no end): the variant's live window
  // (core/live_window.h), numbered so players follow it as it slides. `available`:
  // the variant's first hour to the end of its last.
  void live_window_playlist(const core::Route& route, core::TimeRange available, io::HttpResponse& response);
  // Whether a segment was added to the variant lately (or its newest one is recent):
  // a playlist without `end` then never says ENDLIST, as more is about to arrive.
  bool growing(const core::Route& route, std::optional<core::Micros> newest_end) const;
  // Files (files.cpp): hour listings with or without tombstones, segments and other
  // files below the base, extras listings.
  void list_hour(const core::Route& route, const core::QueryParams& query, io::HttpResponse& response);
  // A variant's hours; with digest=true an object of each hour's digest (null where
  // it would take a directory read), for peers' backfill passes.
  void list_variant_hours(const core::Route& route, const core::QueryParams& query, io::HttpResponse& response);
  void segment(const core::Route& route, const io::HttpRequest& request, io::HttpResponse& response);
  void file(const core::Route& route, const io::HttpRequest& request, io::HttpResponse& response);
  // `what` names the file in errors ("segment s/v/h/f"). serve_file first looks for
  // a tombstone beside the file (a stat); send_file, for a caller that knows there is
  // none, opens and sends it.
  void serve_file(const io::BeneathPath& path, const std::string& what, const io::HttpRequest& request,
                  io::HttpResponse& response);
  void send_file(const io::BeneathPath& path, const std::string& what, const io::HttpRequest& request,
                 io::HttpResponse& response);
  void list_extras(const core::Route& route, io::HttpResponse& response);
  // The editor's pictures (editor.cpp): /frame, /thumbnail, /waveform.
  void frame(const core::Route& route, const core::QueryParams& query, io::HttpResponse& response);
  void thumbnail(const core::Route& route, const io::HttpRequest& request, const core::QueryParams& query,
                 io::HttpResponse& response);
  void waveform(const core::Route& route, const core::QueryParams& query, io::HttpResponse& response);
  // False (and a 404 sent) unless the route names a video variant that exists.
  bool check_video_variant(const core::Route& route, io::HttpResponse& response);
  // The segment covering an instant, and the instant's offset into it; nullopt (and
  // a 406 sent) when none does.
  struct FrameSource {
    core::SegmentRef segment;  // keeps its listing alive while the frame is made
    io::BeneathPath path;
    core::Micros offset = 0;
  };
  std::optional<FrameSource> frame_source(const core::Route& route, core::Micros timestamp, io::HttpResponse& response);
  // Sends `body` once the frame queue gives it a turn; false (and a 503 sent) when
  // too many wait.
  bool queue_media_job(std::unique_ptr<WorkBody> body, io::HttpResponse& response);
  // POST /generate_videos/<stream>/<variant> (generate_videos.cpp).
  void generate_videos(const core::Route& route, const io::HttpRequest& request, io::HttpResponse& response);
  // The per-hour coverage gauges, refreshed before /metrics renders (coverage_metrics.cpp).
  void refresh_coverage_gauges();
  // /ui/: the editor page (ui.cpp).
  void ui(const core::Route& route, io::HttpResponse& response);
  // /coverage/<stream>/<variant>.json|.png|.svg (coverage.cpp).
  void coverage(const core::Route& route, const core::QueryParams& query, io::HttpResponse& response);
  // /<stream>/chat.json (chat.cpp).
  void chat(const core::Route& route, const core::QueryParams& query, io::HttpResponse& response);
  // /cut (cuts.cpp).
  void cut(const core::Route& route, const io::HttpRequest& request, io::HttpResponse& response);
  // What names a seekable clip in the cut cache: its ranges, transitions, and the
  // versions of the listings it is made of.
  std::string clip_key(const core::Route& route, const core::CutRequest& request);
  // False (and a 503 sent) when --max-full-cuts are already running.
  bool admit_cut(io::HttpResponse& response);
  std::int64_t estimate_bandwidth_bps(const std::string& stream, const std::string& variant, const std::string& hour);
  // The newest complete segment of an hour, to probe.
  std::optional<io::BeneathPath> newest_segment_file(const std::string& stream, const std::string& variant,
                                                     const std::string& hour);

  store::SegmentStore& store_;
  core::MetricsRegistry& metrics_;
  core::CounterFamily& requests_;
  core::HistogramFamily& latency_;
  RestreamerLimits limits_;
  PlaylistCache playlist_cache_;
  // Per "stream/variant": what its live playlists have shown (core/live_playlist.h).
  // Lost at a restart.
  std::map<std::string, core::LiveHistory> live_history_;
  // Per "stream/variant": its live window, and the last playlist rendered of it.
  struct LiveWindowState {
    explicit LiveWindowState(core::Micros span) : window(span) {}
    core::LiveWindow window;
    std::uint64_t rendered_version = 0;
    bool rendered_endlist = false;
    std::shared_ptr<const std::string> rendered;
  };
  std::map<std::string, LiveWindowState> live_windows_;
  // Per "stream/variant": what a probe of a recent segment found, for master
  // playlists, and when. Shared with the probes in flight.
  struct ProbedVariant {
    media::VariantMedia media;
    core::Micros probed = 0;
  };
  std::shared_ptr<std::map<std::string, ProbedVariant>> variant_media_ =
      std::make_shared<std::map<std::string, ProbedVariant>>();
  JobsHandler jobs_handler_;
  std::function<std::string()> index_;
  store::RangeHolds* range_holds_ = nullptr;
  uv_loop_t* loop_;
  // The cuts that encode, counted while their bodies live (the connections own them).
  CutSlots cut_slots_;
  // Frames and thumbnails: a few at a time, the rest waiting in order.
  JobQueue media_jobs_;
  // Rendered waveforms, by range and size, valid while the range's listings are (a
  // playlist cache by another name). Shared with the waveforms being drawn.
  std::shared_ptr<PlaylistCache> waveform_cache_;
  // Seekable clips (/cut/S/V.mp4), shared with the bodies sending them.
  std::shared_ptr<CutCache> cut_cache_;
  core::MetricsRegistry::Refresh refresh_;  // wubd_cuts_active
  struct CoverageGauges {
    explicit CoverageGauges(core::MetricsRegistry& metrics);
    core::GaugeFamily& segments;
    core::GaugeFamily& segment_seconds;
    core::GaugeFamily& covered_seconds;
    core::GaugeFamily& holes;
    core::GaugeFamily& hole_seconds;
    core::GaugeFamily& overlaps;
    core::GaugeFamily& overlap_seconds;
  };
  CoverageGauges coverage_gauges_;
  core::MetricsRegistry::Refresh coverage_refresh_;
};

}  // namespace wubd::restreamer
