// wubd: archives live HLS streams and serves the archive back over HTTP.
// This file parses the command line, starts the enabled roles on one libuv loop and
// stops them on SIGTERM/SIGINT.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <uv.h>

#include "wubd/app/logging.h"
#include "wubd/core/metrics.h"
#include "wubd/io/http_server.h"
#include "wubd/restreamer/restreamer.h"
#include "wubd/store/segment_store.h"

namespace {

struct Options {
  std::string base_dir = ".";
  std::string listen = "127.0.0.1:8000";
  wubd::app::LogOptions log;
  std::vector<std::string> logger_levels;
  std::size_t max_connections = 1024;
  double idle_timeout_s = 60;
  double shutdown_timeout_s = 5;
  std::size_t cache_hours = 512;
};

// HOST:PORT, [V6HOST]:PORT, :PORT or PORT (host 127.0.0.1).
bool parse_listen(const std::string& text, std::string& host, int& port) {
  std::string port_text = text;
  host = "127.0.0.1";
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find("]:");
    if (close == std::string::npos) return false;
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else if (size_t colon = text.rfind(':'); colon != std::string::npos) {
    if (colon > 0) host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (port_text.empty() || port_text.find_first_not_of("0123456789") != std::string::npos) return false;
  port = std::stoi(port_text);
  return port >= 0 && port <= 65535;
}

// Everything the running daemon owns, closed in order on shutdown.
class Daemon {
 public:
  Daemon(uv_loop_t* loop, const Options& options)
      : loop_(loop),
        store_(options.base_dir, options.cache_hours),
        restreamer_(store_, metrics_, [this] { refresh_gauges(); }),
        server_(loop, [this](const auto& req, auto& res) { restreamer_.handle(req, res); }, limits(options)),
        shutdown_timeout_ms_(std::uint64_t(options.shutdown_timeout_s * 1000)) {
    server_.set_observer([this](const auto& req, const auto& rec) { restreamer_.observe(req, rec); });
    wubd::app::count_log_messages(metrics_);
  }

  int run(const std::string& host, int port) {
    auto listening = server_.listen(host, port);
    if (!listening) {
      wubd::app::logger("main")->critical("{}", listening.error().message);
      server_.close([] {});
      uv_run(loop_, UV_RUN_DEFAULT);
      return 1;
    }
    wubd::app::logger("main")->info("restreamer listening on http://{}:{}/ serving {}",
                                    host.find(':') != std::string::npos ? "[" + host + "]" : host,
                                    server_.port(), store_.base_dir());
    for (int signum : {SIGTERM, SIGINT}) {
      uv_signal_t& s = signum == SIGTERM ? sigterm_ : sigint_;
      uv_signal_init(loop_, &s);
      s.data = this;
      uv_signal_start(&s, on_signal_cb, signum);
    }
    uv_timer_init(loop_, &deadline_);
    deadline_.data = this;
    uv_run(loop_, UV_RUN_DEFAULT);
    wubd::app::logger("main")->info("stopped");
    return 0;
  }

 private:
  static wubd::io::HttpLimits limits(const Options& options) {
    wubd::io::HttpLimits l;
    l.max_connections = options.max_connections;
    l.idle_timeout_ms = std::uint64_t(options.idle_timeout_s * 1000);
    return l;
  }

  void refresh_gauges() {
    metrics_.gauge("wubd_http_connections", "Open HTTP connections.").set({}, double(server_.connection_count()));
    const auto& stats = store_.stats();
    metrics_.gauge("wubd_store_directory_scans", "Directory listings read from disk since start.")
        .set({}, double(stats.directory_scans));
    metrics_.gauge("wubd_store_cache_hits", "Directory listings answered from cache since start.")
        .set({}, double(stats.cache_hits));
  }

  static void on_signal_cb(uv_signal_t* handle, int signum) noexcept {
    static_cast<Daemon*>(handle->data)->on_signal(signum);
  }
  static void on_deadline_cb(uv_timer_t* timer) noexcept {
    auto* self = static_cast<Daemon*>(timer->data);
    wubd::app::logger("main")->warn("shutdown deadline passed: closing {} connections now",
                                    self->server_.connection_count());
    self->server_.close_all_now();
  }

  void on_signal(int signum) {
    if (stopping_) {
      wubd::app::logger("main")->warn("second signal {}: exiting at once", signum);
      std::_Exit(1);
    }
    stopping_ = true;
    wubd::app::logger("main")->info("signal {}: shutting down", signum);
    uv_timer_start(&deadline_, on_deadline_cb, shutdown_timeout_ms_, 0);
    uv_unref(reinterpret_cast<uv_handle_t*>(&deadline_));
    server_.close([this] {
      uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
      uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
      uv_close(reinterpret_cast<uv_handle_t*>(&deadline_), nullptr);
    });
  }

  uv_loop_t* loop_;
  wubd::core::MetricsRegistry metrics_;
  wubd::store::SegmentStore store_;
  wubd::restreamer::Restreamer restreamer_;
  wubd::io::HttpServer server_;
  std::uint64_t shutdown_timeout_ms_;
  uv_signal_t sigterm_{};
  uv_signal_t sigint_{};
  uv_timer_t deadline_{};
  bool stopping_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App cli{"wubd: archives live HLS streams and serves the archive over HTTP"};
  cli.add_option("--base-dir", options.base_dir, "Archive root: BASE/STREAM/VARIANT/HOUR/*.ts")
      ->capture_default_str();
  cli.add_option("--listen", options.listen, "HTTP address: HOST:PORT, [V6]:PORT or PORT (0 = any free port)")
      ->capture_default_str();
  cli.add_option("--log-level", options.log.level, "trace, debug, info, warning, error, critical or off")
      ->capture_default_str();
  cli.add_option("--log-format", options.log.format, "text or json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cli.add_option("--logger-level", options.logger_levels,
                 "Level of one module's logger, LOGGER=LEVEL (http, store, restreamer, main); repeatable");
  cli.add_option("--max-connections", options.max_connections,
                 "Open HTTP connections above which new ones get 503")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli.add_option("--idle-timeout", options.idle_timeout_s, "Seconds an HTTP connection may sit idle")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli.add_option("--shutdown-timeout", options.shutdown_timeout_s,
                 "Seconds responses in progress may take to finish after SIGTERM")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cli.add_option("--cache-hours", options.cache_hours, "Hour directory listings kept in memory")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  for (const std::string& item : options.logger_levels) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "--logger-level: expected LOGGER=LEVEL, got \"%s\"\n", item.c_str());
      return 2;
    }
    options.log.logger_levels[item.substr(0, eq)] = item.substr(eq + 1);
  }
  if (auto ok = wubd::app::setup_logging(options.log); !ok) {
    std::fprintf(stderr, "%s\n", ok.error().message.c_str());
    return 2;
  }
  std::string host;
  int port = 0;
  if (!parse_listen(options.listen, host, port)) {
    std::fprintf(stderr, "--listen: expected HOST:PORT, got \"%s\"\n", options.listen.c_str());
    return 2;
  }

  // Writes to a socket the peer closed must fail with EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);

  uv_loop_t loop;
  uv_loop_init(&loop);
  int rc;
  {
    Daemon daemon(&loop, options);
    rc = daemon.run(host, port);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0) {
    wubd::app::logger("main")->error("handles left open at exit");
  }
  spdlog::shutdown();
  return rc;
}
