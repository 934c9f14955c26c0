#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <uv.h>

#include "wubd/core/result.h"
#include "wubd/core/time.h"
#include "wubd/io/line_server.h"

// The operator's console: a line protocol on a unix socket or a loopback port (socat,
// nc, telnet) to look into the running process and act on it without a restart, as
// wubloader's backdoor was used, but with commands instead of a Python shell. Every
// answer is aligned text, or one JSON object when the line starts with `json`. Commands
// that act log who asked (the session) and what changed.
namespace wubd::backfiller {
class Backfiller;
}
namespace wubd::downloader {
class Downloader;
}
namespace wubd::io {
class HttpServer;
}
namespace wubd::store {
class RangeHolds;
class Retention;
}  // namespace wubd::store
namespace wubd::transfers {
class TransferEngine;
}

namespace wubd::app {

class ProcessMetrics;

// What the console looks at; everything outlives the console. The roles that may be
// absent are functions returning null.
struct ConsoleParts {
  std::function<std::string()> effective_config;  // TOML, every flag
  std::function<std::string()> roles;             // "restreamer, downloader (2 streams)"
  ProcessMetrics& process;
  io::HttpServer& server;
  transfers::TransferEngine& engine;
  std::function<downloader::Downloader*()> downloader;
  std::function<backfiller::Backfiller*()> backfiller;
  store::RangeHolds& holds;                      // operators' locks
  std::function<store::Retention*()> retention;  // null without --keep-hours/--keep-bytes
  core::Micros started_at = 0;                   // wall clock
};

// One command's answer: a table (aligned columns; JSON: an array of objects under
// "rows"), key/value lines (JSON: an object), or an error line.
struct ConsoleAnswer {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string error;
  bool quit = false;

  std::string text() const;
  std::string json() const;
  // An answer that is an error line.
  static ConsoleAnswer failure(std::string message) {
    ConsoleAnswer answer;
    answer.error = std::move(message);
    return answer;
  }
  // Printable ASCII, at most 60 characters: an operator's typo echoed back safely.
  static std::string shown(std::string_view text);
};

class Console {
 public:
  Console(uv_loop_t* loop, ConsoleParts parts);
  ~Console();

  core::Result<bool> listen(const std::string& address, bool allow_remote) {
    return server_.listen(address, allow_remote);
  }
  void close() { server_.close(); }
  std::size_t sessions() const { return server_.session_count(); }
  int port() const { return server_.port(); }  // a TCP console's port, once listening

  // Runs one line as a session named `who` would (tests and the socket alike).
  ConsoleAnswer run(std::string_view line, const std::string& who);

 private:
  void on_line(io::LineSession& session, std::string_view line);
  // lock, unlock, locks, retention (console_retention.cpp).
  ConsoleAnswer run_retention(const std::string& command, const std::vector<std::string>& args, const std::string& who);

  ConsoleParts parts_;
  io::LineServer server_;
};

}  // namespace wubd::app
