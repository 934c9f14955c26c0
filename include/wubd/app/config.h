#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "wubd/backfiller/backfiller.h"
#include "wubd/core/result.h"
#include "wubd/core/retention_plan.h"
#include "wubd/core/transfer_rules.h"
#include "wubd/downloader/downloader.h"
#include "wubd/io/http_server.h"
#include "wubd/log/log.h"
#include "wubd/restreamer/restreamer.h"

// The command line, read into what the daemon runs with: every flag parsed, checked
// and turned into the roles' own configurations, or an error naming the flag.
namespace wubd::app {

struct Config {
  std::vector<std::string> args;  // the command line it came from, read again on SIGHUP
  std::string config_file;        // --config, or empty
  std::string effective;          // every flag's value, as a TOML config file says it
  std::string base_dir = ".";
  std::string listen_host = "127.0.0.1";  // numeric: a name on the command line is resolved here
  int listen_port = 8000;
  log::LogOptions log;
  io::HttpLimits http;
  restreamer::RestreamerLimits restreamer;
  std::size_t cache_hours = 512;  // hour listings the store keeps
  std::uint64_t shutdown_timeout_ms = 5000;
  core::Micros temp_max_age = 300 * core::kMicrosPerSecond;  // stale temp files removed at start
  downloader::DownloaderConfig download;                     // no streams: not downloading
  backfiller::BackfillConfig backfill;                       // no peers: not backfilling
  std::vector<std::pair<std::string, core::SourceLimits>> source_limits;
  core::KeepPolicy keep;                     // --keep-hours, --keep-bytes; empty: nothing is deleted
  std::vector<core::HeldRange> keep_ranges;  // --keep-range
  core::Micros retention_interval = 60 * core::kMicrosPerSecond;
  std::string console;  // unix:PATH or HOST:PORT; empty: no console
  bool console_allow_remote = false;

  bool downloading() const { return !download.streams.empty(); }
  bool backfilling() const { return !backfill.peers.empty() || !backfill.peers_file.empty(); }
};

// What the command line asks for.
struct Command {
  enum class Kind {
    Run,              // the daemon, with `config`
    InspectPlaylist,  // print what the parser understood of `inspect_source`
    Print,            // print `output` and exit 0 (--help, --version)
  };
  Kind kind = Kind::Run;
  Config config;
  std::string inspect_source;
  std::string inspect_base_uri;
  std::string output;
};

// Reads the arguments after the program's name. An error is one line naming the flag
// and what is wrong with its value (wubd prints it and exits 2). Checks that touch the
// system are made here too, before anything starts: the base directory exists (and is
// writable when downloading or backfilling), the listen host resolves, the Twitch auth
// file reads.
core::Result<Command> parse_command_line(const std::vector<std::string>& args);

// The keys whose lines differ between two `effective` texts (a key's value changed,
// or it appeared or went), sorted.
std::vector<std::string> changed_keys(const std::string& before, const std::string& after);

}  // namespace wubd::app
