// The command line: the flags as given (config_flags.h), checked and turned into
// Config (what the roles run with).
#include "wubd/app/config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include <spdlog/fmt/fmt.h>

#include "config_flags.h"
#include "wubd/app/version.h"
#include "wubd/core/flag_values.h"
#include "wubd/core/retention_plan.h"
#include "wubd/core/routes.h"
#include "wubd/core/time.h"
#include "wubd/restreamer/restreamer.h"

namespace wubd::app {
namespace {

core::Micros seconds(double s) { return core::Micros(s * 1e6); }

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) items.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

// The downloader's configuration from the flags, or an error message.
std::string downloader_config(const Options& o, downloader::DownloaderConfig& config) {
  config.base_dir = o.base_dir;
  config.twitch = o.twitch;
  config.headers = o.headers;
  std::vector<std::string> variants = split_list(o.variants);
  for (const std::string& item : o.downloads) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      return "--download: expected STREAM=URL, got \"" + item + "\"";
    }
    config.streams.push_back({item.substr(0, eq), "hls", item.substr(eq + 1), variants});
  }
  for (const std::string& channel : o.twitch_channels) config.streams.push_back({channel, "twitch", "", variants});
  for (const auto& stream : config.streams) {
    if (stream.name.empty() || stream.name[0] == '.' || stream.name.find('/') != std::string::npos) {
      return "stream name \"" + stream.name + "\" cannot be a directory name";
    }
  }
  for (const std::string& header : o.headers) {
    if (header.find(':') == std::string::npos) return "--header: expected \"Name: value\", got \"" + header + "\"";
  }
  core::DownloadTimings& t = config.timings;
  t.master_min_interval = seconds(o.master_interval_s);
  t.playlist_interval = seconds(o.playlist_interval_s);
  t.playlist_soft_timeout = seconds(o.playlist_timeouts_s[0]);
  t.playlist_hard_timeout = seconds(o.playlist_timeouts_s[1]);
  t.segment_headers_soft_timeout = seconds(o.segment_header_timeouts_s[0]);
  t.segment_headers_hard_timeout = seconds(o.segment_header_timeouts_s[1]);
  t.segment_total_soft_timeout = seconds(o.segment_total_timeouts_s[0]);
  t.segment_total_hard_timeout = seconds(o.segment_total_timeouts_s[1]);
  t.retry_delay = seconds(o.retry_delay_s);
  t.getter_give_up_after = seconds(o.give_up_after_s);
  t.max_url_age = seconds(o.max_url_age_s);
  t.offline_interval = seconds(o.offline_interval_s);
  t.segment_suspect_after = seconds(o.segment_suspect_after_s);
  for (const std::string& item : o.twitch_token_params) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return "--twitch-access-token-param: expected KEY=VALUE, got \"" + item + "\"";
    }
    config.twitch.token_params.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  if (!o.twitch_auth_file.empty()) {
    // A file, not a flag: a token on the command line shows in `ps`.
    std::FILE* f = std::fopen(o.twitch_auth_file.c_str(), "r");
    if (!f) return "--twitch-auth-file: cannot read \"" + o.twitch_auth_file + "\": " + std::strerror(errno);
    char line[512] = {};
    bool read = std::fgets(line, sizeof line, f) != nullptr;
    std::fclose(f);
    std::string token = read ? line : "";
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
    if (token.rfind("OAuth ", 0) == 0) token.erase(0, 6);
    if (token.empty()) return "--twitch-auth-file: \"" + o.twitch_auth_file + "\" holds no token on its first line";
    config.twitch.oauth_token = token;
  }
  if (o.twitch.usher_version != 1 && o.twitch.usher_version != 2) {
    return "--twitch-usher-version: must be 1 or 2, not " + std::to_string(o.twitch.usher_version);
  }
  return {};
}

// The address to listen on: an IP literal as it is, a name resolved now (before the
// loop runs, so blocking is fine), "" as every IPv4 interface. An error says why.
std::string resolve_listen_host(const std::string& host, std::string& error) {
  if (host.empty()) return "0.0.0.0";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
    error = "cannot resolve \"" + host + "\": " + gai_strerror(rc);
    return {};
  }
  char text[NI_MAXHOST] = {};
  int rc = getnameinfo(found->ai_addr, found->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST);
  freeaddrinfo(found);
  if (rc != 0) {
    error = "cannot resolve \"" + host + "\": " + gai_strerror(rc);
    return {};
  }
  return text;
}

// Refuses a base directory that is missing, not a directory, or (for a role that
// writes: downloading, backfilling) not writable; empty when it is fine.
std::string check_base_dir(const std::string& path, bool writes) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "\"" + path + "\": " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return "\"" + path + "\" is not a directory";
  if (writes && ::access(path.c_str(), W_OK | X_OK) != 0) {
    return "\"" + path + "\" is not writable (" + std::strerror(errno) + "), and downloads and backfills write there";
  }
  return {};
}

}  // namespace

// Over 100 lines on purpose: each flag's text checked and turned into the Config in
// the flags' order, one step a flag; to be split by role (download, backfill,
// restreamer, retention) with the flag table.
// NOLINTNEXTLINE(readability-function-size)
core::Result<Command> parse_command_line(const std::vector<std::string>& args) {
  // Every bad value is one line naming the flag and the value.
  // A value from the config file also names the file.
  std::string config_file = config_file_of(args);
  auto refuse = [&args, &config_file](const std::string& flag, const std::string& why) {
    bool on_command_line = std::any_of(args.begin(), args.end(), [&flag](const std::string& arg) {
      return arg == flag || arg.rfind(flag + "=", 0) == 0;
    });
    if (!on_command_line && !config_file.empty()) {
      return core::make_error("--config " + config_file + ": " + flag.substr(2) + ": " + why, 2);
    }
    return core::make_error(flag + ": " + why, 2);
  };
  Flags flags = read_flags(args);
  if (flags.error) return *flags.error;
  if (flags.help) {
    Command help;
    help.kind = Command::Kind::Print;
    help.output = std::move(flags.help_text);
    return help;
  }
  Options& options = flags.options;
  Command command;
  if (options.version) {
    command.kind = Command::Kind::Print;
    command.output = version_text();
    return command;
  }
  if (flags.inspect) {
    command.kind = Command::Kind::InspectPlaylist;
    command.inspect_source = options.inspect_source;
    command.inspect_base_uri = options.inspect_base;
    return command;
  }
  Config& config = command.config;
  config.args = args;
  config.config_file = config_file;
  config.effective = std::move(flags.effective);
  if (!options.console.empty() && options.console.rfind("unix:", 0) != 0) {
    // The console changes the running process and asks no password: loopback only,
    // unless the operator says otherwise.
    auto address = core::parse_listen_address(options.console);
    if (!address) return refuse("--console", "\"" + options.console + "\": " + address.error().message);
    in6_addr v6{};
    in_addr v4{};
    bool is_v4 = inet_pton(AF_INET, address->host.c_str(), &v4) == 1;
    bool is_v6 = inet_pton(AF_INET6, address->host.c_str(), &v6) == 1;
    if (!is_v4 && !is_v6) {
      return refuse("--console", "\"" + options.console + "\": use unix:PATH or a numeric HOST:PORT (127.0.0.1:PORT)");
    }
    bool loopback = is_v4 ? (ntohl(v4.s_addr) >> 24) == 127 : IN6_IS_ADDR_LOOPBACK(&v6);
    if (!loopback && !options.console_allow_remote) {
      return refuse("--console", "\"" + options.console +
                                     "\" is not a loopback address, and the console has no authentication; add "
                                     "--console-allow-remote to listen there anyway");
    }
  }
  config.console = options.console;
  config.console_allow_remote = options.console_allow_remote;

  for (const std::string& item : options.logger_levels) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      return refuse("--logger-level", "expected LOGGER=LEVEL, got \"" + item + "\"");
    log::LogOptions one;
    one.logger_levels[item.substr(0, eq)] = item.substr(eq + 1);
    if (auto ok = log::check_log_options(one); !ok) return refuse("--logger-level", ok.error().message);
    options.log.logger_levels[item.substr(0, eq)] = item.substr(eq + 1);
  }
  if (auto ok = log::check_log_options(options.log); !ok) return refuse("--log-level", ok.error().message);
  config.log = options.log;
  auto listen = core::parse_listen_address(options.listen);
  if (!listen) return refuse("--listen", listen.error().message);
  std::string listen_error;
  std::string host = resolve_listen_host(listen->host, listen_error);
  if (!listen_error.empty()) return refuse("--listen", listen_error);
  config.listen_host = host;
  config.listen_port = listen->port;
  for (const auto* pair :
       {&options.playlist_timeouts_s, &options.segment_header_timeouts_s, &options.segment_total_timeouts_s}) {
    if ((*pair)[0] > (*pair)[1]) {
      const char* flag = pair == &options.playlist_timeouts_s         ? "--playlist-timeouts"
                         : pair == &options.segment_header_timeouts_s ? "--segment-header-timeouts"
                                                                      : "--segment-total-timeouts";
      return refuse(flag, "SOFT must not be above HARD, got " + fmt::format("{},{}", (*pair)[0], (*pair)[1]));
    }
  }
  for (const std::string& peer : options.peers) {
    if (peer.rfind("http://", 0) != 0 && peer.rfind("https://", 0) != 0) {
      return refuse("--peer", "\"" + peer + "\" is not an http:// or https:// URL");
    }
  }

  downloader::DownloaderConfig& download_config = config.download;
  if (std::string error = downloader_config(options, download_config); !error.empty()) {
    return core::make_error(error, 2);
  }
  for (const std::string& item : options.source_limits) {
    auto limit = core::parse_source_limit(item);
    if (!limit) return refuse("--source-limit", limit.error().message);
    core::SourceLimits limits;
    limits.max_concurrent = limit->max_concurrent;
    limits.min_delay = limit->min_delay;
    config.source_limits.emplace_back(limit->source, limits);
  }
  for (const std::string& item : options.keep_hours) {
    auto [stream, value] = core::split_stream_value(item);
    auto seconds = core::parse_seconds(value);  // hours, read as a decimal number the same way
    if (!seconds || *seconds <= 0) {
      return refuse("--keep-hours", "\"" + item + "\" is not [STREAM=]HOURS (a number of hours above 0)");
    }
    core::Micros keep_for = *seconds * 3600;
    if (stream.empty()) {
      config.keep.keep_for = keep_for;
    } else {
      config.keep.keep_for_stream[stream] = keep_for;
    }
  }
  for (const std::string& item : options.keep_bytes) {
    auto [stream, value] = core::split_stream_value(item);
    auto bytes = core::parse_byte_size(value);
    if (!bytes) return refuse("--keep-bytes", "\"" + item + "\": " + bytes.error().message);
    if (stream.empty()) {
      config.keep.keep_bytes = *bytes;
    } else {
      config.keep.keep_bytes_stream[stream] = *bytes;
    }
  }
  for (const std::string& item : options.keep_ranges) {
    auto range = core::parse_keep_range(item);
    if (!range) return refuse("--keep-range", range.error().message);
    config.keep_ranges.push_back(*range);
  }
  config.retention_interval = seconds(options.retention_interval_s);
  backfiller::BackfillConfig& backfill_config = config.backfill;
  backfill_config.base_dir = options.base_dir;
  backfill_config.peers = options.peers;
  backfill_config.peers_file = options.peers_file;
  backfill_config.streams = split_list(options.backfill_streams);
  backfill_config.variants = split_list(options.backfill_variants);
  for (const std::string& dir : options.backfill_extras) {
    if (auto part = core::decode_path_part(dir, "--backfill-extras directory"); !part || *part != dir) {
      return refuse("--backfill-extras", "\"" + dir + "\" is not a directory name below the base directory");
    }
    backfill_config.extras.push_back(dir);
  }
  backfill_config.node_name = options.node_name;
  backfill_config.fill_wait = seconds(options.fill_wait_s);
  backfill_config.full_fill_wait = seconds(options.full_fill_wait_s);
  backfill_config.recent_cutoff = seconds(options.recent_cutoff_s);
  backfill_config.peer_concurrency = options.peer_concurrency;
  if (options.recent_hours < 1)
    return refuse("--recent-hours", "must be at least 1, not " + std::to_string(options.recent_hours));
  backfill_config.recent_hours = options.recent_hours;
  if (options.backfill_hours.rfind("last:", 0) == 0) {
    // A year of hours at most: a pass lists each one.
    auto count = core::parse_whole_number(options.backfill_hours.substr(5), 1, 24 * 366);
    if (!count) return refuse("--backfill-hours", "last:N: " + count.error().message);
    backfill_config.full_pass_last_hours = int(*count);
  } else if (options.backfill_hours != "all") {
    for (const std::string& hour : split_list(options.backfill_hours)) {
      if (!core::parse_hour(hour)) {
        return refuse("--backfill-hours", "\"" + hour + "\" is not an hour like 2026-11-21T04 (or all, or last:N)");
      }
      backfill_config.full_pass_hours.push_back(hour);
    }
  }
  if (auto order = core::parse_fill_order(options.backfill_order); !order) {
    return refuse("--backfill-order", order.error().message);
  } else {
    backfill_config.order = *order;
  }
  if (std::string error = check_base_dir(options.base_dir, config.downloading() || config.backfilling());
      !error.empty()) {
    return refuse("--base-dir", error);
  }
  config.base_dir = options.base_dir;
  config.http.max_connections = options.max_connections;
  config.http.idle_timeout_ms = std::uint64_t(options.idle_timeout_s * 1000);
  config.http.header_timeout_ms = std::uint64_t(options.header_timeout_s * 1000);
  config.http.body_timeout_ms = std::uint64_t(options.body_timeout_s * 1000);
  config.restreamer.max_full_cuts = options.max_full_cuts;
  config.restreamer.playlist_cap.max_span = seconds(options.max_playlist_hours * 3600);
  config.restreamer.live_settle = seconds(options.live_settle_s);
  config.restreamer.cut_cap.max_span = seconds(options.max_cut_hours * 3600);
  config.restreamer.max_frame_jobs = options.max_frame_jobs;
  auto cut_cache_bytes = core::parse_byte_size(options.cut_cache_bytes);
  if (!cut_cache_bytes) return refuse("--cut-cache-bytes", cut_cache_bytes.error().message);
  config.restreamer.cut_cache_bytes = std::uint64_t(*cut_cache_bytes);
  if (!options.thumbnail_templates.empty()) {
    struct stat st {};
    if (::stat(options.thumbnail_templates.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return refuse("--thumbnail-templates", "\"" + options.thumbnail_templates + "\" is not a directory");
    }
    config.restreamer.thumbnail_templates = options.thumbnail_templates;
  }
  // The routes that take a body (a thumbnail's template, /generate_videos' JSON) say how large.
  config.http.body_limit = restreamer::Restreamer::body_limit;
  config.cache_hours = options.cache_hours;
  config.shutdown_timeout_ms = std::uint64_t(options.shutdown_timeout_s * 1000);
  config.temp_max_age = seconds(options.temp_max_age_s);
  return command;
}

}  // namespace wubd::app
