#pragma once

#include <optional>
#include <string>
#include <vector>

#include "wubd/app/config.h"
#include "wubd/core/result.h"

// The command line's flags as given, read with CLI11 (from the arguments and a
// --config file): no value is checked here beyond its type and CLI11's range checks.
// config.cpp checks them and turns them into Config. A file of its own so that only
// this one compiles CLI11's headers.
namespace wubd::app {

struct Options {
  bool version = false;
  std::string inspect_source, inspect_base;
  std::string base_dir = ".";
  std::string listen = "127.0.0.1:8000";
  log::LogOptions log;
  std::vector<std::string> logger_levels;
  std::size_t max_connections = 1024;
  double idle_timeout_s = 60;
  double header_timeout_s = 10;
  double body_timeout_s = 30;
  double shutdown_timeout_s = 5;
  std::size_t cache_hours = 512;
  std::size_t max_full_cuts = 4;
  double max_playlist_hours = 24;
  double max_cut_hours = 6;
  double live_settle_s = 15;
  std::size_t max_frame_jobs = 4;
  std::string cut_cache_bytes = "2G";
  std::string thumbnail_templates;
  // Downloader
  std::vector<std::string> downloads;  // STREAM=URL
  std::vector<std::string> twitch_channels;
  std::string variants;  // comma-separated; empty = all
  std::vector<std::string> headers;
  downloader::TwitchConfig twitch;
  double master_interval_s = 5;
  double playlist_interval_s = 2;
  std::vector<double> playlist_timeouts_s = {5, 90};
  std::vector<double> segment_header_timeouts_s = {5, 30};
  std::vector<double> segment_total_timeouts_s = {15, 240};
  double retry_delay_s = 2;
  double give_up_after_s = 600;
  double max_url_age_s = 20 * 3600;
  double temp_max_age_s = 300;
  double offline_interval_s = 20;
  double segment_suspect_after_s = 59;
  std::vector<std::string> twitch_token_params;  // KEY=VALUE
  std::string twitch_auth_file;
  // Backfiller
  std::vector<std::string> peers;
  std::string peers_file;
  std::string backfill_streams;
  std::string backfill_variants;
  std::string console;
  bool console_allow_remote = false;
  std::vector<std::string> backfill_extras;
  std::string node_name;
  double fill_wait_s = 300;
  double full_fill_wait_s = 3 * 3600;
  double recent_cutoff_s = 60;
  int recent_hours = 3;
  std::string backfill_order = "random";
  int peer_concurrency = 4;
  std::string backfill_hours = "all";
  std::vector<std::string> source_limits;  // SOURCE=N[,DELAY_S]
  // Retention
  std::vector<std::string> keep_hours;   // [STREAM=]N
  std::vector<std::string> keep_bytes;   // [STREAM=]SIZE
  std::vector<std::string> keep_ranges;  // [STREAM=]START/END
  double retention_interval_s = 60;
};

// What read_flags() found: the options, or that help was asked for, or an error.
struct Flags {
  Options options;
  bool help = false;  // --help: `help_text` is what to print
  std::string help_text;
  bool inspect = false;              // the inspect-playlist subcommand
  std::string effective;             // every flag's value, as a config file would say them
  std::optional<core::Error> error;  // one line, naming the config file when it was the file
};

Flags read_flags(const std::vector<std::string>& args);

// The --config file named in `args`, or "".
std::string config_file_of(const std::vector<std::string>& args);

}  // namespace wubd::app
