#include "wubd/app/daemon.h"

#include <csignal>
#include <cstdlib>
#include <memory>

#include <spdlog/spdlog.h>
#include <uv.h>

#include "wubd/backfiller/backfiller.h"
#include "wubd/core/metrics.h"
#include "wubd/downloader/downloader.h"
#include "wubd/io/http_client.h"
#include "wubd/io/http_server.h"
#include "wubd/io/lifetime.h"
#include "wubd/io/timer.h"
#include "wubd/io/uv_handle.h"
#include "wubd/restreamer/restreamer.h"
#include "wubd/store/segment_store.h"
#include "wubd/store/segment_writer.h"
#include "wubd/transfers/jobs_json.h"
#include "wubd/transfers/transfer_engine.h"

namespace wubd::app {
namespace {

spdlog::logger& log() { return log::logger(log::Module::Main); }

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
    store_.report_to(metrics_);
    store_.set_extras_dirs(config.backfill.extras);
    log::count_messages(metrics_);
    for (const auto& [source, limits] : config.source_limits) engine_.set_limits(source, limits);
    restreamer_.set_jobs_handler(
        [this](const auto& query, auto& response) { transfers::answer_jobs(engine_, query, response); });
    if (config.downloading()) {
      downloader_ = std::make_unique<downloader::Downloader>(loop, config.download, metrics_, client_, engine_);
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
    log().info("restreamer listening on http://{}:{}/ serving {}", url_host(config_.listen_host), server_.port(),
               store_.base_dir());
    for (auto [signal, handle] : {std::pair{SIGTERM, &sigterm_}, std::pair{SIGINT, &sigint_}}) {
      handle->init(uv_signal_init, loop_);
      (*handle)->data = this;
      uv_signal_start(handle->get(), &Daemon::on_signal_cb, signal);
    }
    if (downloader_) downloader_->start();
    if (config_.backfilling()) start_backfiller();
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
    backfiller_->start();
  }

  static void on_signal_cb(uv_signal_t* handle, int signum) noexcept {
    static_cast<Daemon*>(handle->data)->on_signal(signum);
  }

  void on_signal(int signum) {
    if (stopping_) {
      log().warn("second signal {}: exiting at once", signum);
      std::_Exit(1);
    }
    stopping_ = true;
    log().info("signal {}: shutting down", signum);
    // Responses in progress get the shutdown timeout; then their connections close.
    deadline_.start(config_.shutdown_timeout_ms, [this] {
      log().warn("shutdown deadline passed: closing {} connections now", server_.connection_count());
      server_.close_all_now();
    });
    deadline_.unref();
    stop_roles_now();
  }

  // Downloads stop at once (in-flight segments with data become `partial`); the server
  // lets the responses in progress finish. The signal handles close last.
  void stop_roles_now() {
    if (downloader_) downloader_->stop();
    if (backfiller_) backfiller_->stop();
    engine_.stop_all();
    pending_stops_ = 2;
    client_.close([this] { on_role_stopped(); });
    server_.close([this] { on_role_stopped(); });
  }

  void on_role_stopped() {
    if (--pending_stops_ > 0) return;
    sigterm_.close();
    sigint_.close();
    deadline_.stop();
  }

  uv_loop_t* loop_;
  const Config& config_;
  core::MetricsRegistry metrics_;
  store::SegmentStore store_;
  restreamer::Restreamer restreamer_;
  io::HttpClient client_;
  transfers::TransferEngine engine_;
  io::HttpServer server_;
  std::unique_ptr<downloader::Downloader> downloader_;
  std::unique_ptr<backfiller::Backfiller> backfiller_;
  io::UvHandle<uv_signal_t> sigterm_, sigint_;
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
    store::remove_stale_temp_files(config.base_dir, config.temp_max_age);
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
