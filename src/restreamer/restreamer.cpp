#include "wubd/restreamer/restreamer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>

#include <cJSON.h>
#include <spdlog/spdlog.h>

#include "wubd/core/hour_files.h"
#include "wubd/core/playlist_writer.h"
#include "wubd/core/time.h"
#include "wubd/io/beneath.h"
#include "wubd/io/clock.h"
#include "wubd/io/json_text.h"
#include "wubd/log/log.h"
#include "wubd/media/media_probe.h"

#include "query_times.h"
#include "work_body.h"

namespace wubd::restreamer {
namespace {

using core::Micros;

constexpr std::string_view kPlaylistType = "application/vnd.apple.mpegurl";
constexpr std::string_view kJsonType = "application/json";

template <typename Name>
std::string json_string_array(const std::vector<Name>& names) {
  cJSON* array = cJSON_CreateArray();
  std::string terminated;  // cJSON takes NUL-terminated strings
  for (const Name& name : names) {
    terminated.assign(name.data(), name.size());
    cJSON_AddItemToArray(array, cJSON_CreateString(terminated.c_str()));
  }
  return io::take_json_text(array);
}

void apply_variant_media(core::MasterVariant& entry, const media::VariantMedia& media) {
  entry.width = media.width;
  entry.height = media.height;
  entry.frame_rate = media.frame_rate;
  entry.codecs = media.codecs;
}

bool has_hour_in_range(const std::vector<std::string>& hours, std::optional<Micros> start, std::optional<Micros> end) {
  for (const std::string& hour : hours) {
    Micros h = *core::parse_hour(hour);
    if ((!start || h + core::kMicrosPerHour > *start) && (!end || h < *end)) return true;
  }
  return false;
}

}  // namespace

Restreamer::Restreamer(uv_loop_t* loop, store::SegmentStore& store, core::MetricsRegistry& metrics,
                       RestreamerLimits limits)
    : store_(store),
      metrics_(metrics),
      requests_(metrics.counter("wubd_http_requests_total", "HTTP requests answered, by endpoint, method and status.")),
      latency_(metrics.histogram("wubd_http_request_duration_seconds",
                                 "Time from a complete request to its last byte queued, by endpoint.",
                                 core::latency_buckets_seconds())),
      limits_(std::move(limits)),
      playlist_cache_(limits_.playlist_cache_bytes),
      loop_(loop),
      media_jobs_(limits_.max_frame_jobs, limits_.max_frame_jobs_waiting),
      waveform_cache_(std::make_shared<PlaylistCache>(limits_.waveform_cache_bytes)),
      cut_cache_(std::make_shared<CutCache>(loop, store.base_dir(), limits_.cut_cache_bytes)),
      coverage_gauges_(metrics) {
  core::GaugeFamily& cuts = metrics.gauge("wubd_cuts_active", "Cuts running that encode (fast, smart, mpegts, mp4).");
  refresh_ = metrics.add_refresh([this, &cuts] { cuts.set({}, double(cut_slots_.running())); });
  coverage_refresh_ = metrics.add_refresh([this] { refresh_coverage_gauges(); });
}

Restreamer::~Restreamer() = default;

void Restreamer::observe(const io::HttpRequest& request, const io::ResponseRecord& record) {
  std::string status = std::to_string(record.status);
  std::string_view method = record.method.empty() ? std::string_view("invalid") : record.method;
  requests_.inc({{"endpoint", record.endpoint}, {"method", method}, {"status", status}});
  latency_.observe({{"endpoint", record.endpoint}}, record.duration_seconds);
  spdlog::logger& log = log::logger(log::Module::Http);
  if (log.should_log(spdlog::level::debug)) {
    std::string bytes = std::to_string(record.body_bytes);
    std::string duration = fmt::format("{:.3f}", record.duration_seconds * 1e3);
    log::Fields fields{{"client", request.client}, {"method", method}, {"path", request.target},
                       {"status", status},         {"bytes", bytes},   {"duration_ms", duration}};
    log.debug("{} {} {} {} {}ms {} bytes{}", request.client, method, request.target, record.status, duration,
              record.body_bytes, record.completed ? "" : " (aborted)");
  }
}

void Restreamer::handle(const io::HttpRequest& request, io::HttpResponse& response) {
  store_.new_snapshot();
  auto route = core::route_path(request.path);
  if (route) response.set_endpoint(core::endpoint_label(route->kind));
  if (request.method == "OPTIONS") {
    response.send(204, {}, {});  // CORS preflight: the headers are on every response
    return;
  }
  // Most routes read; a thumbnail also takes an uploaded template, and
  // /generate_videos only takes a POST.
  const bool post_route =
      route && (route->kind == core::RouteKind::Thumbnail || route->kind == core::RouteKind::GenerateVideos);
  const bool get_route = !route || route->kind != core::RouteKind::GenerateVideos;
  const bool allowed =
      ((request.method == "GET" || request.method == "HEAD") && get_route) || (request.method == "POST" && post_route);
  if (!allowed) {
    std::string methods = std::string(get_route ? "GET, HEAD, " : "") + (post_route ? "POST, " : "") + "OPTIONS";
    response.add_header("Allow", methods);
    response.send_error(405, "method " + request.method + " not allowed; use " +
                                 methods.substr(0, methods.size() - std::string_view(", OPTIONS").size()));
    return;
  }
  if (!route) {
    response.send_error(route.error().code, route.error().message);
    return;
  }
  auto query = core::parse_query(request.query);
  if (!query) {
    response.send_error(400, query.error().message);
    return;
  }
  switch (route->kind) {
    case core::RouteKind::Index:
      if (!index_) return response.send_error(404, "no index here");
      return response.send(200, "text/html; charset=utf-8", index_());
    case core::RouteKind::ListStreams:
      return list_names(response, store_.list_streams());
    case core::RouteKind::ListVariants:
      return list_names(response, store_.list_variants(route->stream));
    case core::RouteKind::ListHours:
      return list_variant_hours(*route, *query, response);
    case core::RouteKind::ListSegments:
      return list_hour(*route, *query, response);
    case core::RouteKind::ListExtras:
      return list_extras(*route, response);
    case core::RouteKind::File:
      return file(*route, request, response);
    case core::RouteKind::MasterPlaylist:
      return master_playlist(*route, *query, response);
    case core::RouteKind::MediaPlaylist:
      return media_playlist(*route, *query, response);
    case core::RouteKind::Segment:
      return segment(*route, request, response);
    case core::RouteKind::Cut:
      return cut(*route, request, response);
    case core::RouteKind::Metrics:
      response.send(200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render());
      return;
    case core::RouteKind::Jobs:
      if (!jobs_handler_) return response.send_error(404, "no transfer engine in this process");
      return jobs_handler_(*query, response);
    case core::RouteKind::Frame:
      return frame(*route, *query, response);
    case core::RouteKind::Thumbnail:
      return thumbnail(*route, request, *query, response);
    case core::RouteKind::Waveform:
      return waveform(*route, *query, response);
    case core::RouteKind::Chat:
      return chat(*route, *query, response);
    case core::RouteKind::GenerateVideos:
      return generate_videos(*route, request, response);
    case core::RouteKind::Coverage:
      return coverage(*route, *query, response);
    case core::RouteKind::Ui:
      return ui(*route, response);
  }
}

std::uint64_t Restreamer::body_limit(const io::HttpRequest& head) {
  constexpr std::uint64_t kDefault = 64 * 1024;
  if (head.method != "POST") return kDefault;
  // A template PNG: wubloader's are 1280x720 with alpha, a few MB at most.
  if (head.path.rfind("/thumbnail/", 0) == 0) return 16 << 20;
  if (head.path.rfind("/generate_videos/", 0) == 0) return 1 << 20;
  return kDefault;
}

void Restreamer::list_names(io::HttpResponse& response, const std::vector<std::string>& names) {
  response.send(200, kJsonType, json_string_array(names));
}

void Restreamer::list_names(io::HttpResponse& response, const std::vector<std::string_view>& names) {
  response.send(200, kJsonType, json_string_array(names));
}

void Restreamer::media_playlist(const core::Route& route, const core::QueryParams& query, io::HttpResponse& response) {
  if (core::is_chat_variant(route.variant) || store_.is_extras_dir(route.stream)) {
    response.send_error(404, route.stream + "/" + route.variant + " is not a video variant (chat or extras)");
    return;
  }
  if (!store_.variant_exists(route.stream, route.variant)) {
    response.send_error(404, "no such stream or variant: " + route.stream + "/" + route.variant);
    return;
  }
  auto params = range_params(query);
  if (!params) return response.send_error(400, params.error().message);
  core::TimeRange available;
  if (!params->start || !params->end) {
    // Without start/end: the variant's first to last hour (the newest part of it,
    // when that is longer than a playlist may be).
    auto span = core::hours_span(store_.list_hours(route.stream, route.variant));
    if (!span) {
      response.send_error(404, "no segments for " + route.stream + "/" + route.variant);
      return;
    }
    available = {span->first, span->second};
    if (!params->start && !params->end) return live_window_playlist(route, available, response);
  }
  auto range = core::playlist_range(params->start, params->end, available, limits_.playlist_cap);
  if (!range) return response.send_error(range.error().code, range.error().message);
  Micros range_start = range->start;
  Micros range_end = range->end;
  response.add_header("Cache-Control", "no-cache");
  if (range_start >= range_end) {
    // An empty range is not an error (a start after the latest data is a valid
    // question); it is an empty playlist that is not complete yet.
    response.send(200, kPlaylistType, core::write_media_playlist({nullptr}, ""));
    return;
  }
  std::string key =
      route.stream + '/' + route.variant + '/' + std::to_string(range_start) + '/' + std::to_string(range_end);
  std::uint64_t version = store_.range_version(route.stream, route.variant, range_start, range_end);
  if (auto cached = playlist_cache_.find(key, version)) {
    response.send_shared(200, kPlaylistType, std::move(cached));
    return;
  }
  bool settling = false;
  std::vector<core::SegmentOrHole> segments = playlist_segments(route, range_start, range_end, settling);
  std::string prefix =
      "/segments/" + core::percent_encode(route.stream) + "/" + core::percent_encode(route.variant) + "/";
  core::LivePlaylistTags tags;
  tags.endlist = !segments.empty() && segments.back() != nullptr;
  if (tags.endlist && !params->end) {
    // Complete to the end of the newest hour, but open-ended: while segments are
    // arriving, more will follow ("video is complete" would stop the player).
    tags.endlist = !growing(route, segments.back()->name.end());
  }
  auto body = std::make_shared<const std::string>(core::write_media_playlist(segments, prefix, tags));
  // One the settle window ended early reads differently once the window has passed,
  // even if nothing on disk changes (a stream that ended with a hole at its edge).
  if (!settling) playlist_cache_.insert(key, version, body);
  response.send_shared(200, kPlaylistType, std::move(body));
}

std::vector<core::SegmentOrHole> Restreamer::playlist_segments(const core::Route& route, Micros start, Micros end,
                                                               bool& settling) {
  auto select = [&](const std::vector<core::TimeRange>& held_holes) {
    return store_.best_segments(route.stream, route.variant, start, end, held_holes);
  };
  return core::playlist_segments(select, live_history_[route.stream + '/' + route.variant], limits_.live_settle,
                                 io::wall_clock_now(), &settling);
}

bool Restreamer::growing(const core::Route& route, std::optional<Micros> newest_end) const {
  // "Lately": a few minutes, longer than any pause between two segments of a live
  // stream (a stalled download, a worker being replaced), far shorter than a break.
  constexpr Micros kLately = 5 * 60 * core::kMicrosPerSecond;
  Micros now = io::wall_clock_now();
  std::optional<Micros> added = store_.last_segment_added(route.stream, route.variant);
  return (added && *added > now - kLately) || (newest_end && *newest_end > now - kLately);
}

void Restreamer::live_window_playlist(const core::Route& route, core::TimeRange available, io::HttpResponse& response) {
  std::string key = route.stream + '/' + route.variant;
  LiveWindowState& state = live_windows_.try_emplace(key, limits_.playlist_cap.max_span).first->second;
  Micros from = std::max(available.start, state.window.select_from(available.end));
  bool ends_complete = false;
  if (from < available.end) {
    bool settling = false;
    std::vector<core::SegmentOrHole> selection = playlist_segments(route, from, available.end, settling);
    state.window.advance(selection);
    ends_complete = !selection.empty() && selection.back() != nullptr;
  }
  core::LiveWindow::View view = state.window.view();
  std::optional<Micros> newest_end;
  if (!view.items.empty()) newest_end = view.items.back()->name.end();
  bool endlist = ends_complete && !growing(route, newest_end);
  if (!state.rendered || state.rendered_version != state.window.version() || state.rendered_endlist != endlist) {
    std::string prefix =
        "/segments/" + core::percent_encode(route.stream) + "/" + core::percent_encode(route.variant) + "/";
    core::LivePlaylistTags tags{view.media_sequence, view.discontinuity_sequence, endlist, view.target_duration};
    state.rendered = std::make_shared<const std::string>(core::write_media_playlist(view.items, prefix, tags));
    state.rendered_version = state.window.version();
    state.rendered_endlist = endlist;
  }
  if (range_holds_ && state.window.head_start()) {
    // A segment that left the window stays fetchable for as long as the window is
    // long (RFC 8216 6.2.2): retention keeps what the window showed in that time,
    // while anyone follows it.
    Micros span = limits_.playlist_cap.max_span;
    core::HeldRange held{route.stream, {*state.window.head_start() - span, std::numeric_limits<Micros>::max()}};
    range_holds_->hold_live_window(key, held, io::wall_clock_now() + span + 60 * core::kMicrosPerSecond);
  }
  response.add_header("Cache-Control", "no-cache");
  response.send_shared(200, kPlaylistType, state.rendered);
}

void Restreamer::master_playlist(const core::Route& route, const core::QueryParams& query, io::HttpResponse& response) {
  auto range = range_params(query);
  if (!range) return response.send_error(400, range.error().message);
  const std::optional<Micros>& start = range->start;
  const std::optional<Micros>& end = range->end;
  if (start && end && *start < *end) {
    // The media playlists would refuse it: say so here, not in every one of them.
    if (auto error = core::check_range_cap(*end - *start, limits_.playlist_cap)) {
      return response.send_error(error->code, error->message);
    }
  }
  if (store_.is_extras_dir(route.stream)) {
    response.send_error(404, route.stream + " holds extras, not a stream");
    return;
  }
  std::vector<std::string> variants = store_.list_variants(route.stream);
  if (variants.empty()) {
    response.send_error(404, "no such stream: " + route.stream);
    return;
  }
  std::string passed_on;
  for (const char* name : {"start", "end"}) {
    auto it = query.find(name);
    if (it == query.end()) continue;
    passed_on += passed_on.empty() ? "?" : "&";
    passed_on += std::string(name) + "=" + core::percent_encode(it->second);
  }
  std::vector<core::MasterVariant> entries;
  // Variants whose size, frame rate and codecs are not known (or were learnt long
  // ago: a stream may come back in another resolution) are probed first, off the loop.
  struct Probe {
    std::size_t entry;
    std::string key;
    io::BeneathPath segment;
  };
  std::vector<Probe> probes;
  const Micros now = io::wall_clock_now();
  constexpr Micros kProbeAgainAfter = 10 * 60 * core::kMicrosPerSecond;
  for (const std::string& variant : variants) {
    if (core::is_chat_variant(variant)) continue;  // chat batches are not video
    std::vector<std::string> hours = store_.list_hours(route.stream, variant);
    if (!has_hour_in_range(hours, start, end)) continue;
    std::string last_hour = hours.back();
    for (const std::string& h : hours) {
      if (!end || *core::parse_hour(h) < *end) last_hour = h;
    }
    core::MasterVariant entry;
    entry.name = variant;
    entry.uri =
        "/playlist/" + core::percent_encode(route.stream) + "/" + core::percent_encode(variant) + ".m3u8" + passed_on;
    entry.bandwidth_bps = estimate_bandwidth_bps(route.stream, variant, last_hour);
    std::string key = route.stream + '/' + variant;
    auto known = variant_media_->find(key);
    if (known != variant_media_->end()) {
      apply_variant_media(entry, known->second.media);
    }
    if (known == variant_media_->end() || now - known->second.probed > kProbeAgainAfter) {
      if (auto segment = newest_segment_file(route.stream, variant, last_hour)) {
        probes.push_back({entries.size(), key, std::move(*segment)});
      }
    }
    entries.push_back(std::move(entry));
  }
  response.add_header("Cache-Control", "no-cache");
  if (probes.empty()) return response.send(200, kPlaylistType, core::write_master_playlist(entries));
  struct Probed {
    std::string key;
    media::VariantMedia media;
  };
  auto probed = std::make_shared<std::vector<Probed>>();
  auto work = [entries = std::move(entries), probes = std::move(probes), probed]() mutable -> core::Result<Reply> {
    for (const Probe& probe : probes) {
      auto media = media::probe_variant_media(probe.segment);
      if (!media) continue;  // a variant whose segment does not probe is listed without them
      apply_variant_media(entries[probe.entry], *media);
      probed->push_back({probe.key, *media});
    }
    return Reply{200, std::string(kPlaylistType), core::write_master_playlist(entries)};
  };
  auto cache = variant_media_;
  auto then = [cache, probed, now](const core::Result<Reply>&) {
    for (const Probed& p : *probed) (*cache)[p.key] = {p.media, now};
  };
  response.send_body(std::make_unique<WorkBody>(loop_, std::move(work), std::move(then)));
}

std::optional<io::BeneathPath> Restreamer::newest_segment_file(const std::string& stream, const std::string& variant,
                                                               const std::string& hour) {
  std::shared_ptr<const store::HourListing> listing = store_.hour_listing(stream, variant, hour);
  for (auto it = listing->best.rbegin(); it != listing->best.rend(); ++it) {
    if ((*it)->name.type != core::SegmentType::Full) continue;
    return store_.segment_file(stream, variant, hour, std::string((*it)->file_name));
  }
  return std::nullopt;
}

// RFC 8216 requires a peak BANDWIDTH per variant. We measure it from the newest few
// complete segments of an hour: a handful of stat() calls, not a scan.
std::int64_t Restreamer::estimate_bandwidth_bps(const std::string& stream, const std::string& variant,
                                                const std::string& hour) {
  std::shared_ptr<const store::HourListing> listing = store_.hour_listing(stream, variant, hour);
  std::int64_t peak = 0;
  int measured = 0;
  for (auto it = listing->best.rbegin(); it != listing->best.rend() && measured < 5; ++it) {
    const core::StoredSegment* s = *it;
    if (s->name.type != core::SegmentType::Full || s->name.duration <= 0) continue;
    struct stat st;
    io::BeneathPath file = store_.segment_file(stream, variant, hour, std::string(s->file_name));
    if (io::stat_beneath(file.dir_fd, file.relative, st) != 0) continue;
    ++measured;
    peak = std::max<std::int64_t>(peak, st.st_size * 8 * core::kMicrosPerSecond / s->name.duration);
  }
  return peak;
}

}  // namespace wubd::restreamer
