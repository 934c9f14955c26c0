#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/logger.h>

#include "wubd/core/metrics.h"
#include "wubd/core/result.h"

// The process's log: one spdlog logger per module, all writing one line per event to
// stderr, as text or JSON. Every module that logs is declared once, here; its name is
// what --logger-level accepts and what each line carries.
namespace wubd::log {

enum class Module {
  Main,        // "main": start, stop, signals
  Http,        // "http": the HTTP server, its connections and bodies
  HttpClient,  // "http_client": curl
  Store,       // "store": the archive on disk, listings and writes
  Restreamer,  // "restreamer": playlists, segments, /metrics
  Cut,         // "cut": the cuts that encode, ffmpeg's stderr
  Downloader,  // "downloader": streams, workers, segment getters
  Backfill,    // "backfill": passes over peers
  Transfers,   // "transfers": the transfer engine
};

std::string_view name(Module module);

// The logger of a module, created with the process's sinks and levels on first use.
spdlog::logger& logger(Module module);

// Every module's name, in declaration order.
std::vector<std::string> module_names();

struct LogOptions {
  std::string level = "info";                        // trace … critical, off
  std::string format = "text";                       // text | json
  std::map<std::string, std::string> logger_levels;  // module name -> level
};

// Checks options without applying them: the same errors setup_logging would give
// (an unknown level, format or module name, naming it and the choices).
core::Result<bool> check_log_options(const LogOptions& options);

// Configures every logger, existing and future.
core::Result<bool> setup_logging(const LogOptions& options);

// Counts every message into `wubd_log_messages_total{level,logger}` of `metrics`,
// which must outlive logging (the registry lives for the whole process).
void count_messages(core::MetricsRegistry& metrics);

// Sets the level of one module's logger, or of all when `name` is empty.
core::Result<bool> set_level(const std::string& name, const std::string& level);

// Structured fields of the log lines written while it lives (on this thread): with
// `--log-format json` each line carries them as fields beside "msg" (stream, variant,
// peer, url, transfer, status, …); text lines already say them in the message. Scopes
// nest; an inner field of the same name wins.
//   log::Fields fields{{"peer", peer_}, {"stream", stream}};
class Fields {
 public:
  Fields(std::initializer_list<std::pair<std::string_view, std::string_view>> fields);
  ~Fields();
  Fields(const Fields&) = delete;
  Fields& operator=(const Fields&) = delete;

 private:
  std::size_t count_;
};

}  // namespace wubd::log
