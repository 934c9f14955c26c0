#include "wubd/app/daemon.h"

#include <csignal>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>

#include <spdlog/spdlog.h>
#include <uv.h>

#include "app_log.h"
#include "wubd/app/console.h"
#include "wubd/app/process_metrics.h"
#include "wubd/app/systemd_notify.h"
#include "wubd/app/version.h"
#include "wubd/backfiller/backfiller.h"
#include "wubd/core/metrics.h"
#include "wubd/core/url.h"
#include "wubd/downloader/downloader.h"
#include "wubd/io/clock.h"
#include "wubd/io/http_client.h"
#include "wubd/io/http_server.h"
#include "wubd/io/lifetime.h"
#include "wubd/io/timer.h"
#include "wubd/io/uv_handle.h"
#include "wubd/restreamer/restreamer.h"
#include "wubd/store/range_holds.h"
#include "wubd/store/retention.h"
#include "wubd/store/segment_store.h"
#include "wubd/store/segment_writer.h"
#include "wubd/store/temp_sweeper.h"
#include "wubd/transfers/jobs_json.h"
#include "wubd/transfers/transfer_engine.h"

namespace wubd::app {
namespace {

// The hours of each variant whose listings the index makes as it reads them: what the
// longest playlist spans (one hour directory more than its hours, as a range rarely
// starts on the hour), within what the store keeps at all.
std::size_t playlist_hours_to_list(const Config& config) {
  core::Micros span = config.restreamer.playlist_cap.max_span;
  auto span_hours = std::size_t((span + core::kMicrosPerHour - 1) / core::kMicrosPerHour);
  return std::min(std::max<std::size_t>(span_hours, 1) + 1, config.cache_hours);
}

std::string escape_html(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string url_host(const std::string& host) { return host.find(':') != std::string::npos ? "[" + host + "]" : host; }

// Everything the running daemon owns, declared in the order it is built: the metrics
// first (every role reports there), the store, then the roles. Stopped in order on
// the first signal; destroyed once the loop has nothing left.
class Daemon {
 public:
  Daemon(uv_loop_t* loop, const Config& config)
      : loop_(loop),
        config_(config),
        store_(config.base_dir, config.cache_hours),
        restreamer_(loop, store_, metrics_, config.restreamer),
        client_(loop, "wubd/0.1"),
        engine_(loop, client_, core::SourceLimits{64, 0}),
        server_(
            loop, [this](const auto& req, auto& res) { restreamer_.handle(req, res); }, config.http),
        deadline_(loop) {
    server_.set_observer([this](const auto& req, const auto& rec) { restreamer_.observe(req, rec); });
    server_.report_to(metrics_);
    restreamer_.set_index([this] { return index_page(); });
    restreamer_.set_range_holds(&range_holds_);
    for (const core::HeldRange& range : config.keep_ranges) range_holds_.lock(range, "--keep-range");
    store_.report_to(metrics_);
    store_.set_extras_dirs(config.backfill.extras);
    watch_store_changes();
    store_.start_index(loop_, playlist_hours_to_list(config));
    log::count_messages(metrics_);
    for (const auto& [source, limits] : config.source_limits) engine_.set_limits(source, limits);
    restreamer_.set_jobs_handler(
        [this](const auto& query, auto& response) { transfers::answer_jobs(engine_, query, response); });
    if (config.downloading()) {
      downloader_ = std::make_unique<downloader::Downloader>(loop, config.download, metrics_, client_, engine_);
    }
    if (!config.keep.empty()) {
      retention_ = std::make_unique<store::Retention>(loop, store_, range_holds_, config.keep,
                                                      config.retention_interval, metrics_);
      retention_->start();
    }
    if (config.downloading() || config.backfilling()) {
      temp_sweeper_ = std::make_unique<store::TempSweeper>(loop, config.base_dir, config.temp_max_age, metrics_);
      temp_sweeper_->start();
    }
  }

  int run() {
    auto listening = server_.listen(config_.listen_host, config_.listen_port);
    if (!listening) {
      log().critical("{}", listening.error().message);
      stop_roles_now();
      uv_run(loop_, UV_RUN_DEFAULT);
      return 1;
    }
    for (auto [signal, handle] :
         {std::pair{SIGTERM, &sigterm_}, std::pair{SIGINT, &sigint_}, std::pair{SIGHUP, &sighup_},
          std::pair{SIGUSR1, &sigusr1_}, std::pair{SIGUSR2, &sigusr2_}}) {
      handle->init(uv_signal_init, loop_);
      (*handle)->data = this;
      uv_signal_start(handle->get(), &Daemon::on_signal_cb, signal);
    }
    if (downloader_) downloader_->start();
    if (config_.backfilling()) start_backfiller();
    if (!config_.console.empty()) {
      if (auto listening_console = console_.listen(config_.console, config_.console_allow_remote); !listening_console) {
        log().critical("--console: {}", listening_console.error().message);
        stop_roles_now();
        uv_run(loop_, UV_RUN_DEFAULT);
        return 1;
      }
      if (console_.port() > 0) {
        std::string host = config_.console.substr(0, config_.console.rfind(':'));
        log().info("console listening on {}:{}", host, console_.port());
      } else {
        log().info("console listening on {}", config_.console);
      }
    }
    // Said last, once signals are handled and the console listens: scripts (and the
    // tests) take this line to mean the node is ready.
    log().info("restreamer listening on http://{}:{}/ serving {}", url_host(config_.listen_host), server_.port(),
               store_.base_dir());
    notify_systemd("READY=1\nSTATUS=serving " + store_.base_dir());
    uv_run(loop_, UV_RUN_DEFAULT);
    log().info("stopped");
    return 0;
  }

 private:
  // Started after listen: with port 0 only now is our own URL known, which is never a peer.
  void start_backfiller() {
    backfiller::BackfillConfig backfill = config_.backfill;
    std::string port = std::to_string(server_.port());
    const std::string& host = config_.listen_host;
    backfill.self_urls = {"http://" + url_host(host) + ":" + port};
    if (host == "0.0.0.0" || host == "::" || host == "127.0.0.1") {
      backfill.self_urls.push_back("http://127.0.0.1:" + port);
      backfill.self_urls.push_back("http://localhost:" + port);
    }
    backfiller_ =
        std::make_unique<backfiller::Backfiller>(loop_, std::move(backfill), store_, client_, engine_, metrics_);
    if (retention_) {
      // What retention deletes is not copied back from a peer that keeps more.
      backfiller_->set_hour_filter(
          [this](const std::string& stream, core::Micros hour) { return retention_->keeps(stream, hour); });
    }
    backfiller_->start();
  }

  // GET /: what this node is and where to look, for an operator with a browser.
  std::string roles() const {
    std::string roles = "restreamer";
    if (downloader_) roles += ", downloader (" + std::to_string(config_.download.streams.size()) + " streams)";
    if (backfiller_) roles += ", backfiller (" + std::to_string(backfiller_->peers().size()) + " peers)";
    if (retention_) roles += ", retention";
    if (!config_.console.empty()) roles += ", console";
    return roles;
  }

  std::string index_page() {
    std::string roles = this->roles();
    std::string streams;
    for (const std::string& stream : store_.list_streams()) {
      std::string encoded = core::percent_encode(stream);
      streams += fmt::format(
          "<li>{}: <a href=\"/ui/?stream={}\">editor</a>, <a href=\"/playlist/{}.m3u8\">master playlist</a>, "
          "<a href=\"/files/{}\">variants</a></li>\n",
          escape_html(stream), encoded, encoded, encoded);
    }
    return "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>wubd</title></head><body>\n"
           "<h1>wubd " +
           escape_html(version()) +
           "</h1>\n"
           "<p>An archive of live HLS streams (" +
           escape_html(store_.base_dir()) + "). Roles: " + escape_html(roles) + ".</p>\n<h2>Streams</h2>\n<ul>\n" +
           (streams.empty() ? "<li>none yet</li>\n" : streams) +
           "</ul>\n<h2>Endpoints</h2>\n<ul>\n"
           "<li><a href=\"/ui/\">/ui/</a>: the editor page</li>\n"
           "<li><a href=\"/files\">/files</a>: streams, then /files/STREAM/VARIANT/HOUR</li>\n"
           "<li>/playlist/STREAM.m3u8, /playlist/STREAM/VARIANT.m3u8?start=&amp;end=: HLS playlists</li>\n"
           "<li>/segments/STREAM/VARIANT/HOUR/FILE: segment bytes</li>\n"
           "<li>/cut/STREAM/VARIANT.ts?start=&amp;end=&amp;type=rough|fast|smart|mpegts|mp4|webm"
           "[&amp;range=A,B&amp;transition=TYPE,SECONDS]: clips</li>\n"
           "<li>/cut/STREAM/VARIANT.mp4?start=&amp;end=[&amp;download=true]: a clip a browser can seek in</li>\n"
           "<li>/coverage/STREAM/VARIANT.json|.png|.svg?start=&amp;end=: what the archive holds, and its holes</li>\n"
           "<li>/frame/STREAM/VARIANT.png|.jpg?timestamp=: the frame shown then</li>\n"
           "<li>/thumbnail/STREAM/VARIANT.png?timestamp=&amp;template=: a thumbnail (POST a template PNG)</li>\n"
           "<li>/waveform/STREAM/VARIANT.png?start=&amp;end=&amp;size=WxH: the audio's waveform</li>\n"
           "<li>/STREAM/chat.json?start=&amp;end=: chat messages</li>\n"
           "<li>POST /generate_videos/STREAM/VARIANT: Matroska files of ranges</li>\n"
           "<li><a href=\"/extras/emotes\">/extras/DIR</a>: extras, as wubloader serves them</li>\n"
           "<li><a href=\"/jobs\">/jobs</a>: transfers</li>\n"
           "<li><a href=\"/metrics\">/metrics</a>: Prometheus metrics</li>\n"
           "</ul>\n</body></html>\n";
  }

  static void on_signal_cb(uv_signal_t* handle, int signum) noexcept {
    try {
      static_cast<Daemon*>(handle->data)->on_signal(signum);
    } catch (const std::exception& e) {
      // A reload that threw (out of memory) must not take the daemon down with it.
      log().error("signal {}: {}", signum, e.what());
    }
  }

  void on_signal(int signum) {
    if (signum == SIGHUP) return reload();
    if (signum == SIGUSR1 || signum == SIGUSR2) {
      // Their default action kills; wubd gives them no job (SIGHUP reloads).
      log().info("signal {} ({}): ignored (SIGHUP reloads the configuration, SIGTERM stops)", signum,
                 signum == SIGUSR1 ? "SIGUSR1" : "SIGUSR2");
      return;
    }
    if (stopping_) {
      log().warn("second signal {}: exiting at once", signum);
      std::_Exit(1);
    }
    stopping_ = true;
    log().info("signal {}: shutting down", signum);
    notify_systemd("STOPPING=1");
    // Responses in progress get the shutdown timeout; then their connections close.
    deadline_.start(config_.shutdown_timeout_ms, [this] {
      log().warn("shutdown deadline passed: closing {} connections now", server_.connection_count());
      server_.close_all_now();
    });
    deadline_.unref();
    stop_roles_now();
  }

  // SIGHUP: the command line and its --config file are read again; log levels and
  // peers (--peer, --peers-file, --node-name; the peers file is re-read too) change
  // now, anything else at the next start. wubd logs to stderr: no file to reopen.
  void reload() {
    notify_systemd("RELOADING=1");
    reload_config();
    notify_systemd("READY=1");
  }

  void reload_config() {
    auto command = parse_command_line(config_.args);
    if (!command || command->kind != Command::Kind::Run) {
      log().error("SIGHUP: configuration not reloaded: {}",
                  command ? "not a daemon command line" : command.error().message);
      return;
    }
    const Config& next = command->config;
    std::vector<std::string> changed = changed_keys(effective_, next.effective);
    std::string from = config_.config_file.empty() ? "the command line" : "--config " + config_.config_file;
    if (changed.empty()) log().info("SIGHUP: {} read again; nothing changed", from);
    for (const std::string& key : changed) {
      static const std::set<std::string> kLive = {"log-level", "logger-level", "peer", "peers-file", "node-name"};
      if (kLive.count(key)) {
        log().info("SIGHUP: {} changed in {}: applied now", key, from);
      } else {
        log().warn("SIGHUP: {} changed in {}: takes effect at the next start", key, from);
      }
    }
    // parse_command_line checked every level and logger name, so these cannot fail.
    (void)log::set_level("", next.log.level);
    for (const auto& [name, level] : next.log.logger_levels) (void)log::set_level(name, level);
    if (backfiller_) {
      backfiller_->reload_peers(next.backfill.peers, next.backfill.peers_file, next.backfill.node_name);
    } else if (next.backfilling()) {
      log().warn("SIGHUP: peers given, but this process started without a backfiller: restart to backfill");
    }
    effective_ = next.effective;
  }

  // Downloads stop at once (in-flight segments with data become `partial`); the server
  // lets the responses in progress finish. The signal handles close last.
  // The store's inotify queue is read as it fills, not only when a request comes: a
  // quiet node writing all day would otherwise overflow it (16,384 events).
  void watch_store_changes() {
    if (store_.changes_fd() < 0) return;
    if (int rc = store_changes_.init(uv_poll_init, loop_, store_.changes_fd()); rc != 0) {
      log().warn("cannot poll the store's inotify descriptor: {}", uv_strerror(rc));
      return;
    }
    store_changes_->data = this;
    uv_poll_start(store_changes_.get(), UV_READABLE, [](uv_poll_t* handle, int, int) {
      if (auto* daemon = static_cast<Daemon*>(handle->data)) daemon->store_.read_changes();
    });
    uv_unref(store_changes_.base());  // housekeeping: it never keeps the loop alive by itself
  }

  void stop_roles_now() {
    console_.close();
    store_.stop_index();
    if (retention_) retention_->stop();
    temp_sweeper_.reset();
    if (downloader_) downloader_->stop();
    if (backfiller_) backfiller_->stop();
    engine_.stop_all();
    pending_stops_ = 2;
    client_.close([this] { on_role_stopped(); });
    server_.close([this] { on_role_stopped(); });
  }

  void on_role_stopped() {
    if (--pending_stops_ > 0) return;
    for (auto* handle : {&sigterm_, &sigint_, &sighup_, &sigusr1_, &sigusr2_}) handle->close();
    deadline_.stop();
  }

  uv_loop_t* loop_;
  const Config& config_;
  core::MetricsRegistry metrics_;
  store::SegmentStore store_;
  store::RangeHolds range_holds_;  // before the restreamer, whose cuts hold ranges
  io::UvHandle<uv_poll_t> store_changes_;
  ProcessMetrics process_metrics_{loop_, metrics_};
  restreamer::Restreamer restreamer_;
  io::HttpClient client_;
  transfers::TransferEngine engine_;
  io::HttpServer server_;
  std::unique_ptr<downloader::Downloader> downloader_;
  std::unique_ptr<backfiller::Backfiller> backfiller_;
  std::unique_ptr<store::TempSweeper> temp_sweeper_;
  std::unique_ptr<store::Retention> retention_;
  Console console_{loop_, ConsoleParts{
                              [this] { return effective_; },
                              [this] { return roles(); },
                              process_metrics_,
                              server_,
                              engine_,
                              [this] { return downloader_.get(); },
                              [this] { return backfiller_.get(); },
                              range_holds_,
                              [this] { return retention_.get(); },
                              io::wall_clock_now(),
                          }};
  io::UvHandle<uv_signal_t> sigterm_, sigint_, sighup_, sigusr1_, sigusr2_;
  std::string effective_ = config_.effective;  // what SIGHUP compares with
  io::Timer deadline_;
  int pending_stops_ = 0;
  bool stopping_ = false;
};

}  // namespace

int run_daemon(const Config& config) {
  if (auto ok = log::setup_logging(config.log); !ok) {
    std::fprintf(stderr, "wubd: %s\n", ok.error().message.c_str());
    return 2;
  }
  if (config.downloading() || config.backfilling()) {
    // Left by a process that died mid-download; nothing of ours is writing yet.
    for (const auto& path : store::remove_stale_temp_files(config.base_dir, config.temp_max_age)) {
      log::logger(log::Module::Store).info("removed stale temp file {}", path);
    }
  }
  // Writes to a socket the peer closed must fail with EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);

  uv_loop_t loop{};
  uv_loop_init(&loop);
  int rc;
  {
    Daemon daemon(&loop, config);
    rc = daemon.run();
  }
  uv_run(&loop, UV_RUN_DEFAULT);  // what the daemon's members closed as they went
  if (uv_loop_close(&loop) != 0) log().error("handles left open at exit");
  spdlog::shutdown();
  return rc;
}

}  // namespace wubd::app
