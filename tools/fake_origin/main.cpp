// fake-origin: our own live HLS origin for tests, the demo and benchmarks. Serves a
// master playlist with several variants and rolling live media playlists (a
// PROGRAM-DATE-TIME on every segment) over real ffmpeg-made .ts segments, optionally
// faster than real time, with fault injection and a Twitch-like GQL + usher front.
// It logs every body it served (JSON lines) so tests can compare with the archive.

#include <csignal>
#include <cstdio>
#include <list>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

#include <openssl/evp.h>
#include <uv.h>
#include <CLI/CLI.hpp>

#include "fault.h"
#include "live_playlist.h"
#include "media.h"
#include "twitch_front.h"
#include "wubd/core/segment_name.h"
#include "wubd/core/time.h"
#include "wubd/core/ts_retimer.h"
#include "wubd/core/url.h"
#include "wubd/io/clock.h"
#include "wubd/io/http_server.h"
#include "wubd/io/timer.h"
#include "wubd/io/uv_handle.h"

namespace wubd::fake_origin {
namespace {

struct Options {
  std::string listen_host = "127.0.0.1";
  int port = 0;
  std::vector<std::string> profiles = {"source:320x240:400k", "160p:160x120:150k"};
  int copies = 0;  // >0: that many variants v1..vN, all with the first profile's media
  std::string cache_dir = "/tmp/wubd-fake-origin-cache";
  int distinct_segments = 10;
  int segment_seconds = 2;
  double speed = 1;
  int window = 5;
  double end_after_s = -1;
  double offline_for_s = 10;
  double url_expiry_s = -1;
  std::vector<std::string> faults;
  std::string served_log;
  TwitchOptions twitch;
  AdOptions ads;
  SkewOptions skew;
  std::uint64_t seed = 1;
};

struct Variant {
  std::string name;
  std::vector<std::shared_ptr<const std::string>> segments;
  std::vector<std::shared_ptr<const std::string>> inits;  // fMP4: the init section of each half
  std::string resolution;
  std::int64_t bandwidth = 0;
};

class Origin {
 public:
  Origin(uv_loop_t* loop, Options options, std::vector<Variant> variants, std::vector<Fault> faults)
      : loop_(loop),
        options_(std::move(options)),
        variants_(std::move(variants)),
        faults_(std::move(faults)),
        random_(options_.seed),
        twitch_(options_.twitch),
        server_(loop, [this](const io::HttpRequest& req, io::HttpResponse& res) { handle(req, res); }),
        started_ms_(uv_now(loop)) {
    core::Micros now = wall_now();
    core::Micros duration = options_.segment_seconds * core::kMicrosPerSecond;
    // The stream has been live for `window` segments already.
    base_ = now - now % duration - options_.window * duration;
    if (!options_.served_log.empty()) served_log_ = std::fopen(options_.served_log.c_str(), "a");
  }

  int run() {
    auto listening = server_.listen(options_.listen_host, options_.port);
    if (!listening) {
      std::fprintf(stderr, "fake-origin: %s\n", listening.error().message.c_str());
      return 1;
    }
    std::fprintf(stderr, "fake-origin listening on http://%s:%d/ (master: /master.m3u8, speed %gx)\n",
                 options_.listen_host.c_str(), server_.port(), options_.speed);
    for (auto [signal, handle] : {std::pair{SIGTERM, &sigterm_}, std::pair{SIGINT, &sigint_}}) {
      handle->init(uv_signal_init, loop_);
      (*handle)->data = this;
      uv_signal_start(
          handle->get(), [](uv_signal_t* h, int) { static_cast<Origin*>(h->data)->shutdown(); }, signal);
    }
    uv_run(loop_, UV_RUN_DEFAULT);
    if (served_log_) std::fclose(served_log_);
    return 0;
  }

 private:
  static core::Micros wall_now() { return io::wall_clock_now(); }
  double elapsed_s() const { return double(uv_now(loop_) - started_ms_) / 1000.0; }
  core::Micros segment_duration() const { return options_.segment_seconds * core::kMicrosPerSecond; }

  // Real seconds since start at which segment `index` became available.
  double published_at(std::int64_t index) const {
    std::int64_t after_start = index - options_.window + 1;
    return after_start <= 0 ? 0 : double(after_start) * options_.segment_seconds / options_.speed;
  }
  bool offline_at(double t) const {
    return options_.end_after_s >= 0 && t >= options_.end_after_s && t < options_.end_after_s + options_.offline_for_s;
  }

  // The live window at real time `t`: the last `window` published segments, skipping
  // those that would have appeared while the stream was offline.
  std::vector<std::int64_t> window_at(double t) const {
    std::int64_t newest = options_.window - 1 + std::int64_t(t * options_.speed / options_.segment_seconds);
    std::vector<std::int64_t> indexes;
    for (std::int64_t i = newest; i >= 0 && int(indexes.size()) < options_.window; --i) {
      if (!offline_at(published_at(i))) indexes.insert(indexes.begin(), i);
    }
    return indexes;
  }

  // Every variant has the same timeline, so one playlist text serves them all (an
  // fMP4 variant names its segments and init sections differently).
  std::string media_playlist(double t, const Session& session, bool fmp4) const {
    std::vector<std::int64_t> indexes = window_at(std::min(t, offline_at(t) ? options_.end_after_s : t));
    Fmp4Layout layout{fmp4, options_.distinct_segments};
    return media_playlist_text(indexes, Timeline{base_, options_.segment_seconds}, options_.ads, options_.skew, session,
                               layout, offline_at(t));
  }

  // The session a media playlist URL belongs to: its first fetch starts its clock.
  Session session_of(const core::QueryParams* params, double t) {
    Session session;
    auto it = params ? params->find("session") : core::QueryParams::const_iterator{};
    if (!params || it == params->end()) return session;
    session.id = std::atoll(it->second.c_str());
    auto [entry, fresh] = sessions_.try_emplace(session.id, SessionClock{t, 0});
    auto created = session_created_.find(session.id);
    session.created_index = created == session_created_.end() ? 0 : created->second;
    session.age_stream_s = (t - entry->second.first_fetch_t) * options_.speed;
    return session;
  }

  // A master playlist hands out a new session's URLs, as Twitch's do.
  std::string variant_query(std::int64_t session) const {
    std::string query = "?session=" + std::to_string(session);
    if (options_.url_expiry_s >= 0) {
      query += "&exp=" + std::to_string((wall_now() / core::kMicrosPerSecond) + std::int64_t(options_.url_expiry_s));
    }
    return query;
  }

  std::string master_playlist(bool twitch, int usher_version, double t) {
    std::int64_t session = next_session_++;
    std::vector<std::int64_t> live = window_at(t);
    session_created_[session] = live.empty() ? 0 : live.back();
    std::string text = "#EXTM3U\n";
    bool first = true;
    for (const Variant& v : variants_) {
      const std::string codecs = "avc1.42C01E,mp4a.40.2";  // fMP4 renditions carry the same codecs
      if (twitch && usher_version == 2) {
        // Usher v2: IVS attributes and frame rates on the variants themselves.
        text += "#EXT-X-STREAM-INF:BANDWIDTH=" + std::to_string(v.bandwidth) + ",RESOLUTION=" + v.resolution +
                ",CODECS=\"" + codecs + "\",FRAME-RATE=30.000,IVS-NAME=\"" + v.name + "\",IVS-VARIANT-SOURCE=\"" +
                (first ? "source" : "transcode") + "\",STABLE-VARIANT-ID=\"" + v.name + "-id\"\n";
        text += "http://" + options_.listen_host + ":" + std::to_string(server_.port()) + "/" + v.name + "/index.m3u8" +
                variant_query(session) + "\n";
      } else if (twitch) {
        std::string group = first ? "chunked" : v.name;
        std::string name = first ? v.name + " (source)" : v.name;
        text += "#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"" + group + "\",NAME=\"" + name + "\",AUTOSELECT=YES,DEFAULT=YES\n";
        text += "#EXT-X-STREAM-INF:BANDWIDTH=" + std::to_string(v.bandwidth) + ",RESOLUTION=" + v.resolution +
                ",CODECS=\"avc1.42C01E,mp4a.40.2\",VIDEO=\"" + group + "\"\n";
        // Absolute, as usher's are.
        text += "http://" + options_.listen_host + ":" + std::to_string(server_.port()) + "/" + v.name + "/index.m3u8" +
                variant_query(session) + "\n";
      } else {
        text += "#EXT-X-STREAM-INF:BANDWIDTH=" + std::to_string(v.bandwidth) + ",RESOLUTION=" + v.resolution +
                ",CODECS=\"" + codecs + "\",NAME=\"" + v.name + "\",IVS-NAME=\"" + v.name + "\"\n";
        text += v.name + "/index.m3u8" + variant_query(session) + "\n";
      }
      first = false;
    }
    return text;
  }

  const Variant* find_variant(const std::string& name) const {
    for (const Variant& v : variants_) {
      if (v.name == name) return &v;
    }
    return nullptr;
  }

  // `hash`: the whole body's sha256 as segment names carry it (for segments).
  void log_served(const std::string& kind, const std::string& path, const std::string& variant, std::int64_t index,
                  std::size_t bytes, std::size_t total, bool complete, const Fault* fault, const std::string& hash) {
    if (!served_log_) return;
    std::fprintf(served_log_,
                 "{\"t\":%.3f,\"kind\":\"%s\",\"path\":\"%s\",\"variant\":\"%s\",\"index\":%lld,"
                 "\"start\":\"%s\",\"bytes\":%zu,\"total\":%zu,\"complete\":%s,\"fault\":%s,\"sha256\":\"%s\"}\n",
                 elapsed_s(), kind.c_str(), path.c_str(), variant.c_str(), static_cast<long long>(index),
                 index >= 0 ? core::format_time_us(base_ + index * segment_duration()).c_str() : "", bytes, total,
                 complete ? "true" : "false", fault ? ("\"" + fault->kind + "\"").c_str() : "null", hash.c_str());
    std::fflush(served_log_);
  }

  // Segment `index` of a variant: its encoded segments play on in a loop, each loop's
  // timestamps moved on by the loop's length, so the stream's timestamps run on as a
  // real encoder's would (players break where they jump back without a DISCONTINUITY).
  std::shared_ptr<const std::string> segment_body(const Variant& variant, std::int64_t index) const {
    std::int64_t count = std::int64_t(variant.segments.size());
    const auto& looped = variant.segments[std::size_t(index % count)];
    std::int64_t loop = index / count;
    if (loop == 0 || !variant.inits.empty()) return looped;  // fMP4 loops with its timestamps as they are
    std::int64_t ticks = loop * count * options_.segment_seconds * 90'000;
    return std::make_shared<const std::string>(core::shift_timestamps(*looped, ticks));
  }

  void handle(const io::HttpRequest& req, io::HttpResponse& res) {
    auto params = core::parse_query(req.query);
    std::string path = req.path;
    double t = elapsed_s();
    if (req.method == "POST" && path == "/gql") return serve_gql(req, res, t);
    if (path == "/master.m3u8") return serve_master(res, t, false, 0);
    if (int version = twitch_.usher_version(path); version != 0) {
      if (auto refusal = twitch_.usher_refusal(params ? *params : core::QueryParams{}, version)) {
        return res.send(refusal->status, refusal->content_type, refusal->body);
      }
      return serve_master(res, t, true, version);
    }
    std::size_t slash = path.find('/', 1);
    if (slash == std::string::npos) return res.send_error(404, "no such path");
    std::string variant_name = path.substr(1, slash - 1);
    std::string file = path.substr(slash + 1);
    const Variant* variant = find_variant(variant_name);
    if (!variant) return res.send_error(404, "no such variant " + variant_name);
    if (file == "index.m3u8") {
      if (params && params->count("exp") && std::stoll("0" + params->at("exp")) < wall_now() / core::kMicrosPerSecond) {
        return res.send_error(403, "URL expired");
      }
      Fault* fault = pick_fault(faults_, "media", variant_name, t, random_);
      double when = fault && fault->kind == "stale" ? std::max(0.0, t - fault->seconds) : t;
      Session session = session_of(params ? &*params : nullptr, t);
      std::string body =
          fault && fault->kind == "garbage" ? garbage() : media_playlist(when, session, !variant->inits.empty());
      return serve_body(res, "application/vnd.apple.mpegurl", std::make_shared<const std::string>(std::move(body)),
                        fault, "media", path, variant_name, -1);
    }
    if (is_ad_uri(file)) {
      // A stitched ad: real video, unlike any of the stream's segments.
      std::int64_t index = std::atoll(file.substr(file.rfind('-') + 1).c_str());
      auto body = std::make_shared<const std::string>(
          core::shift_timestamps(*variant->segments[std::size_t(index) % variant->segments.size()], 1ll << 32));
      return serve_body(res, "video/mp2t", body, nullptr, "ad", path, variant_name, index);
    }
    if (file == "init0.mp4" || file == "init1.mp4") {
      if (variant->inits.empty()) return res.send_error(404, "no init section in an MPEG-TS variant");
      return serve_body(res, "video/mp4", variant->inits[file == "init0.mp4" ? 0 : 1], nullptr, "init", path,
                        variant_name, -1);
    }
    bool m4s = file.size() > 4 && file.substr(file.size() - 4) == ".m4s";
    if ((file.size() > 3 && file.substr(file.size() - 3) == ".ts") || m4s) {
      std::int64_t index = std::atoll(file.c_str());
      std::size_t suffix = m4s ? 4 : 3;
      std::vector<std::int64_t> live = window_at(t);
      if (file.find_first_not_of("0123456789") != file.size() - suffix || index < 0 ||
          (!live.empty() && index > live.back()) || offline_at(published_at(index))) {
        return res.send_error(404, "segment " + file + " does not exist (yet)");
      }
      bool repeat = !segments_asked_.insert({variant_name, index}).second;
      Fault* fault = pick_fault(faults_, "segment", variant_name, t, random_, repeat);
      auto body = segment_body(*variant, index);
      return serve_body(res, m4s ? "video/iso.segment" : "video/mp2t", body, fault, "segment", path, variant_name,
                        index);
    }
    res.send_error(404, "no such path");
  }

  void serve_master(io::HttpResponse& res, double t, bool twitch, int usher_version) {
    if (offline_at(t)) {
      if (!twitch) return res.send_error(404, "stream offline");
      auto refusal = TwitchFront(TwitchOptions{options_.twitch.channel, "", false, "token", "offline"})
                         .usher_refusal({{"token", "x"}, {"sig", "sig-x"}, {"platform", "web"}}, 1);
      return res.send(refusal->status, refusal->content_type, refusal->body);
    }
    Fault* fault = pick_fault(faults_, "master", "", t, random_);
    std::string body = fault && fault->kind == "garbage" ? garbage() : master_playlist(twitch, usher_version, t);
    serve_body(res, "application/vnd.apple.mpegurl", std::make_shared<const std::string>(std::move(body)), fault,
               "master", twitch ? "/api/channel/hls" : "/master.m3u8", "", -1);
  }

  // Twitch's PlaybackAccessToken answer: the token is a JSON text in a string, and
  // this origin's signature is "sig-" + token, which usher checks.
  void serve_gql(const io::HttpRequest& req, io::HttpResponse& res, double t) {
    if (!req.header("client-id")) return res.send_error(400, "missing Client-ID");
    Fault* fault = pick_fault(faults_, "gql", "", t, random_);
    Answer answer = twitch_.gql(req.body, wall_now() / core::kMicrosPerSecond + 3600);
    // What was asked: the tests check that a query text follows PersistedQueryNotFound.
    log_served(req.body.find("\"query\"") != std::string::npos ? "gql-query-text" : "gql-persisted", "/gql", "", -1,
               req.body.size(), req.body.size(), true, nullptr, "");
    if (answer.status != 200) return res.send(answer.status, answer.content_type, answer.body);
    serve_body(res, "application/json", std::make_shared<const std::string>(std::move(answer.body)), fault,
               "gql-answer", "/gql", "", -1);
  }

  static std::string sha256_name_hash(const std::string& bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
    return core::encode_hash({digest, length});
  }

  static std::string garbage() { return "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>\n"; }

  // Sends a body, or does to it what the fault says.
  void serve_body(io::HttpResponse& res, std::string_view type, const std::shared_ptr<const std::string>& body,
                  Fault* fault, const std::string& kind, const std::string& path, const std::string& variant,
                  std::int64_t index) {
    std::size_t total = body->size();
    std::string fault_kind = fault ? fault->kind : "";
    std::string hash = kind == "segment" ? sha256_name_hash(*body) : "";
    if (fault_kind == "empty") {
      log_served(kind, path, variant, index, 0, 0, true, fault, sha256_name_hash(""));
      return res.send(200, type, "");
    }
    if (fault_kind == "status") {
      log_served(kind, path, variant, index, 0, total, false, fault, hash);
      return res.send_error(fault->code, "injected fault: HTTP " + std::to_string(fault->code));
    }
    if (fault_kind == "delay") {
      // The whole answer after a while. The timer lives in the body: a client that
      // leaves first frees both, and nothing is sent or logged.
      auto timer = std::make_shared<io::Timer>(loop_);
      std::uint64_t delay_ms = std::uint64_t(fault->seconds * 1000);
      return res.send_body(io::make_body({[=, this](io::BodyWriter& out) {
                                            timer->start(delay_ms, [=, this, &out] {
                                              out.begin(200, std::string(type), std::int64_t(total));
                                              out.write_borrowed(body, body->data(), total);
                                              out.end();
                                              log_served(kind, path, variant, index, total, total, true, fault, hash);
                                            });
                                          },
                                          {},
                                          {},
                                          false}));
    }
    std::size_t half = total / 2;
    if (fault_kind == "reset" || fault_kind == "truncate") {
      // Half the body, then the connection is cut: a truncated sized body, or a
      // chunked one without its last chunk.
      bool sized = fault_kind == "truncate";
      log_served(kind, path, variant, index, half, total, false, fault, hash);
      return res.send_body(io::make_body({[=](io::BodyWriter& out) {
                                            out.begin(200, std::string(type),
                                                      sized ? std::optional<std::int64_t>(total) : std::nullopt);
                                            out.write(body->substr(0, half));
                                            out.fail(500, "injected fault: connection cut");
                                          },
                                          {},
                                          {},
                                          false}));
    }
    if (fault_kind == "stall") {
      // Half the body, then nothing for a while. Logged the moment the client gives up
      // on it, as a racing downloader does.
      auto timer = std::make_shared<io::Timer>(loop_);
      auto finished = std::make_shared<bool>(false);
      std::uint64_t stall_ms = std::uint64_t(fault->seconds * 1000);
      return res.send_body(io::make_body({[=, this](io::BodyWriter& out) {
                                            out.begin(200, std::string(type), std::int64_t(total));
                                            out.write(body->substr(0, half));
                                            timer->start(stall_ms, [=, this, &out] {
                                              *finished = true;
                                              out.write(body->substr(half));
                                              out.end();
                                              log_served(kind, path, variant, index, total, total, true, fault, hash);
                                            });
                                          },
                                          {},
                                          [=, this] {
                                            if (!*finished)
                                              log_served(kind, path, variant, index, half, total, false, fault, hash);
                                          },
                                          true}));
    }
    res.send_shared(200, type, body);
    log_served(kind, path, variant, index, total, total, true, fault, hash);
  }

  void shutdown() {
    server_.close_all_now();  // faults holding responses back included
    server_.close([this] {
      sigterm_.close();
      sigint_.close();
    });
  }

  uv_loop_t* loop_;
  Options options_;
  std::vector<Variant> variants_;
  std::vector<Fault> faults_;
  std::set<std::pair<std::string, std::int64_t>> segments_asked_;  // (variant, index): for repeat faults
  std::mt19937_64 random_;
  TwitchFront twitch_;
  io::HttpServer server_;
  std::uint64_t started_ms_;
  struct SessionClock {
    double first_fetch_t;
    int unused;
  };
  std::map<std::int64_t, SessionClock> sessions_;         // by session id: when its URLs were first used
  std::map<std::int64_t, std::int64_t> session_created_;  // by session id: the newest segment then
  std::int64_t next_session_ = 1;
  core::Micros base_ = 0;
  std::FILE* served_log_ = nullptr;
  io::UvHandle<uv_signal_t> sigterm_, sigint_;
};

}  // namespace
}  // namespace wubd::fake_origin

namespace wubd::fake_origin {
namespace {

// Over 100 lines on purpose: the fake origin's flags and start; a test tool, 6 lines
// over.
// NOLINTNEXTLINE(readability-function-size)
int run_origin(int argc, char** argv) {
  Options options;
  std::string listen = "127.0.0.1:0";
  CLI::App cli{"fake-origin: a live HLS origin with fault injection, for wubd's tests, demo and benchmarks"};
  cli.add_option("--listen", listen, "HOST:PORT (port 0 picks a free one; the log line says which)")
      ->capture_default_str();
  cli.add_option("--variant", options.profiles,
                 "NAME:WxH:BITRATE[:fmp4]; repeatable (default: source 320x240, 160p). fmp4: fragmented MP4 "
                 "segments whose init section changes half way through the loop");
  cli.add_option("--copies", options.copies, "Serve N variants v1..vN, all with the first profile's media");
  cli.add_option("--cache-dir", options.cache_dir, "Where encoded segments are kept between runs")
      ->capture_default_str();
  cli.add_option("--distinct-segments", options.distinct_segments, "Distinct segments per variant (then they repeat)")
      ->capture_default_str();
  cli.add_option("--segment-seconds", options.segment_seconds, "Segment duration")->capture_default_str();
  cli.add_option("--speed", options.speed, "Stream time per real time (2 = segments twice as fast)")
      ->capture_default_str();
  cli.add_option("--window", options.window, "Segments in a live media playlist")->capture_default_str();
  cli.add_option("--end-after", options.end_after_s, "Real seconds until the stream ends (ENDLIST, master 404)");
  cli.add_option("--offline-for", options.offline_for_s, "Real seconds the stream stays ended before it restarts")
      ->capture_default_str();
  cli.add_option("--url-expiry", options.url_expiry_s, "Variant URLs expire (403) this many seconds after the master");
  cli.add_option("--fault", options.faults, "CLASS:KIND[:key=value…], see tools/fake_origin/fault.h; repeatable");
  cli.add_option("--served-log", options.served_log, "Append a JSON line per body served to this file");
  cli.add_option("--channel", options.twitch.channel,
                 "Channel name of the Twitch-like front (lower case, as logins are)")
      ->capture_default_str();
  cli.add_option("--gql-hash", options.twitch.query_hash, "The only persisted query hash GQL knows")
      ->capture_default_str();
  cli.add_option("--gql-answer", options.twitch.gql_answer, "token, null (no such channel), unauthorized or gql-error")
      ->capture_default_str();
  cli.add_option("--usher-error", options.twitch.usher_error,
                 "Usher answers this error: offline, geoblock or entitlement");
  cli.add_option("--preroll", options.ads.preroll_s, "Stream seconds of stitched ads opening every new session");
  cli.add_option("--midroll", options.ads.midroll_every_s, "A mid-roll ad break every this many stream seconds");
  cli.add_option("--midroll-length", options.ads.midroll_s, "Length of a mid-roll break, stream seconds")
      ->capture_default_str();
  cli.add_option("--marked-live", options.ads.marked_live_every_s,
                 "Every this many stream seconds, an ad DATERANGE over segments that stay live");
  cli.add_option("--marked-live-length", options.ads.marked_live_s, "Its length, stream seconds")
      ->capture_default_str();
  cli.add_option("--pdt-skew-from", options.skew.from_index,
                 "From this segment on, sessions older than it see PROGRAM-DATE-TIMEs --pdt-skew-ms off");
  cli.add_option("--pdt-skew-ms", options.skew.ms, "The size of that jump")->capture_default_str();
  cli.add_option("--seed", options.seed, "Random seed of the faults")->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  std::size_t colon = listen.rfind(':');
  options.listen_host = colon == std::string::npos ? "127.0.0.1" : listen.substr(0, colon);
  options.port = std::atoi(listen.substr(colon == std::string::npos ? 0 : colon + 1).c_str());

  std::vector<Fault> faults;
  for (const std::string& spec : options.faults) {
    std::string error;
    auto fault = parse_fault(spec, error);
    if (!fault) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 2;
    }
    faults.push_back(*fault);
  }
  std::vector<Variant> variants;
  for (const std::string& text : options.profiles) {
    Profile profile;
    if (!parse_profile(text, profile)) {
      std::fprintf(stderr, "--variant: expected NAME:WxH:BITRATE, got \"%s\"\n", text.c_str());
      return 2;
    }
    Variant variant;
    variant.name = profile.name;
    variant.resolution = profile.size;
    if (profile.fmp4) {
      Fmp4Media media =
          load_fmp4_segments(options.cache_dir, profile, options.distinct_segments, options.segment_seconds);
      variant.segments = std::move(media.segments);
      variant.inits = std::move(media.inits);
    } else {
      variant.segments = load_segments(options.cache_dir, profile, options.distinct_segments, options.segment_seconds);
    }
    if (variant.segments.empty()) return 1;
    std::size_t bytes = 0;
    for (const auto& s : variant.segments) bytes += s->size();
    variant.bandwidth = std::int64_t(bytes * 8 / variant.segments.size() / std::size_t(options.segment_seconds));
    variants.push_back(std::move(variant));
    if (options.copies > 0) break;
  }
  if (options.copies > 0) {
    Variant first = variants.front();
    variants.clear();
    for (int i = 1; i <= options.copies; ++i) {
      Variant copy = first;
      copy.name = "v" + std::to_string(i);
      variants.push_back(copy);
    }
  }
  std::signal(SIGPIPE, SIG_IGN);
  uv_loop_t loop{};
  uv_loop_init(&loop);
  int rc;
  {
    Origin origin(&loop, options, std::move(variants), std::move(faults));
    rc = origin.run();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return rc;
}

}  // namespace
}  // namespace wubd::fake_origin

int main(int argc, char** argv) {
  try {
    return wubd::fake_origin::run_origin(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fake-origin: %s\n", e.what());
    return 1;
  }
}
