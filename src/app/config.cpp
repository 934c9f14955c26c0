// The command line: CLI11's flags into Options (the text as given), then checked and
// turned into Config (what the roles run with).
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
#include <CLI/CLI.hpp>

#include "wubd/app/version.h"
#include "wubd/core/flag_values.h"
#include "wubd/core/routes.h"
#include "wubd/core/time.h"

namespace wubd::app {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

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
};

core::Micros seconds(double s) { return core::Micros(s * 1e6); }

// CLI11's own range validators print their bound, which for "positive" is a number of
// 300 digits: say what is wanted instead.
const CLI::Validator kPositive(
    [](std::string& value) -> std::string {
      char* end = nullptr;
      double number = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !std::isfinite(number)) return "\"" + value + "\" is not a number";
      return number > 0 ? "" : "must be greater than 0, not " + value;
    },
    "> 0");
const CLI::Validator kNonNegative(
    [](std::string& value) -> std::string {
      char* end = nullptr;
      double number = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !std::isfinite(number)) return "\"" + value + "\" is not a number";
      return number >= 0 ? "" : "must be 0 or more, not " + value;
    },
    ">= 0");

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

// The --config file named in `args` (CLI11 does not keep it once it has read it).
std::string config_file_of(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) return args[i + 1];
    if (args[i].rfind("--config=", 0) == 0) return args[i].substr(9);
  }
  return {};
}

// Declares every flag of `cli`, storing into `options`; returns the inspect-playlist
// subcommand.
CLI::App* define_flags(CLI::App& cli, Options& options) {
  cli.set_config("--config", "",
                 "Read flags from FILE (TOML or INI, keys are flag names without dashes: "
                 "base-dir = \"/srv/wubd\"); the command line overrides it");
  cli.allow_config_extras(CLI::config_extras_mode::error);
  cli.add_flag("--version", options.version, "Print wubd's version and its libraries' versions, and exit");
  cli.add_option("--base-dir", options.base_dir, "Archive root: BASE/STREAM/VARIANT/HOUR/*.ts")->capture_default_str();
  cli.add_option("--listen", options.listen,
                 "HTTP address: HOST:PORT (a name is resolved), [V6]:PORT, or :PORT / PORT for every interface; "
                 "port 0 = any free port")
      ->capture_default_str();
  cli.add_option("--log-level", options.log.level, "trace, debug, info, warning, error, critical or off")
      ->capture_default_str();
  cli.add_option("--log-format", options.log.format, "text or json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cli.add_option("--logger-level", options.logger_levels,
                 "Level of one module's logger, LOGGER=LEVEL (" + join(log::module_names()) + "); repeatable");
  cli.add_option("--max-connections", options.max_connections, "Open HTTP connections above which new ones get 503")
      ->check(kPositive)
      ->capture_default_str();
  cli.add_option("--idle-timeout", options.idle_timeout_s, "Seconds an HTTP connection may sit idle")
      ->check(kPositive)
      ->capture_default_str();
  cli.add_option(
         "--header-timeout", options.header_timeout_s,
         "Seconds a request's head may take to arrive whole, however it trickles (at most --idle-timeout); then 408")
      ->check(kPositive)
      ->capture_default_str();
  cli.add_option("--body-timeout", options.body_timeout_s,
                 "Seconds a request's body may take to arrive after its head; then 408")
      ->check(kPositive)
      ->capture_default_str();
  cli.add_option("--shutdown-timeout", options.shutdown_timeout_s,
                 "Seconds responses in progress may take to finish after SIGTERM")
      ->check(kNonNegative)
      ->capture_default_str();
  cli.add_option("--max-full-cuts", options.max_full_cuts,
                 "Cuts that encode (fast, smart, mpegts, mp4) running at once; more get 503 with Retry-After")
      ->check(kPositive)
      ->capture_default_str();
  cli.add_option("--max-playlist-hours", options.max_playlist_hours,
                 "Longest range a playlist covers; longer ones get 400, and one without start shows the newest part")
      ->check(kPositive)
      ->capture_default_str();
  cli.add_option("--max-cut-hours", options.max_cut_hours,
                 "Longest range a cut covers (its ranges together); longer ones get 400")
      ->check(kPositive)
      ->capture_default_str();
  auto* console = cli.add_option_group("Console", "The operator's way into the live process");
  console->add_option("--console", options.console,
                      "unix:/run/wubd/console.sock (mode 0600, removed at exit) or 127.0.0.1:PORT; off by default");
  console->add_flag("--console-allow-remote", options.console_allow_remote,
                    "Let --console listen on a non-loopback address (it has no authentication)");
  cli.add_option("--cache-hours", options.cache_hours, "Hour directory listings kept in memory")
      ->check(kPositive)
      ->capture_default_str();

  auto* download = cli.add_option_group("Downloader", "Archive live HLS streams (any number; off without them)");
  download->add_option("--download", options.downloads,
                       "Archive a stream: STREAM=URL of a master or media playlist; repeatable");
  download->add_option("--twitch", options.twitch_channels, "Archive a Twitch channel (stream = channel); repeatable");
  download->add_option("--variants", options.variants,
                       "Variants to archive, comma-separated (default: every variant of the master playlist)");
  download->add_option("--header", options.headers, "Extra request header \"Name: value\"; repeatable");
  download
      ->add_option("--master-interval", options.master_interval_s,
                   "Minimum seconds between master playlist fetches (±10% jitter)")
      ->check(kPositive)
      ->capture_default_str();
  download
      ->add_option("--playlist-interval", options.playlist_interval_s,
                   "Seconds between media playlist fetches (±10% jitter)")
      ->check(kPositive)
      ->capture_default_str();
  download
      ->add_option("--playlist-timeouts", options.playlist_timeouts_s,
                   "SOFT,HARD seconds for a media playlist fetch (soft: ask for a new worker)")
      ->delimiter(',')
      ->expected(2)
      ->check(kPositive)
      ->capture_default_str();
  download
      ->add_option("--segment-header-timeouts", options.segment_header_timeouts_s,
                   "SOFT,HARD seconds until a segment's headers (soft: race a second attempt)")
      ->delimiter(',')
      ->expected(2)
      ->check(kPositive)
      ->capture_default_str();
  download
      ->add_option("--segment-total-timeouts", options.segment_total_timeouts_s,
                   "SOFT,HARD seconds until a segment's last byte (soft: race a second attempt)")
      ->delimiter(',')
      ->expected(2)
      ->check(kPositive)
      ->capture_default_str();
  download->add_option("--retry-delay", options.retry_delay_s, "Seconds before retrying a failed segment (±10%)")
      ->check(kPositive)
      ->capture_default_str();
  download
      ->add_option("--give-up-after", options.give_up_after_s,
                   "Seconds a segment may keep failing before it is given up")
      ->check(kPositive)
      ->capture_default_str();
  download
      ->add_option("--max-url-age", options.max_url_age_s,
                   "Seconds after which a media playlist URL is replaced by a fresh one")
      ->check(kPositive)
      ->capture_default_str();
  download
      ->add_option("--temp-max-age", options.temp_max_age_s,
                   "Remove temp files older than this many seconds: at start, then swept while running (every half of "
                   "it, 1 s to 5 min)")
      ->check(kNonNegative)
      ->capture_default_str();
  auto* twitch = cli.add_option_group("Twitch", "Where Twitch's front doors are (for --twitch)");
  twitch->add_option("--twitch-gql-url", options.twitch.gql_url, "GQL endpoint")->capture_default_str();
  twitch
      ->add_option("--twitch-usher-version", options.twitch.usher_version,
                   "Usher API: 2 (/api/v2/, platform=web, frame rates in the master) or 1")
      ->capture_default_str();
  twitch
      ->add_option("--twitch-usher-url", options.twitch.usher_url,
                   "Usher master playlist URL; {channel} is replaced (default: the official one of the version)")
      ->capture_default_str();
  twitch->add_option("--twitch-client-id", options.twitch.client_id, "Client-ID header")->capture_default_str();
  twitch->add_option("--twitch-query-hash", options.twitch.query_hash, "PlaybackAccessToken persisted query hash")
      ->capture_default_str();
  twitch->add_option("--twitch-player-type", options.twitch.player_type, "playerType of the access token")
      ->capture_default_str();
  twitch->add_option("--twitch-platform", options.twitch.platform, "platform of the access token")
      ->capture_default_str();
  twitch->add_option("--twitch-access-token-param", options.twitch_token_params,
                     "Another PlaybackAccessToken variable, or another value for one: KEY=VALUE (true/false are "
                     "booleans); repeatable");
  twitch->add_option("--twitch-auth-file", options.twitch_auth_file,
                     "File whose first line is an OAuth token, sent to GQL only (never to usher or segment servers)");
  download
      ->add_option("--offline-interval", options.offline_interval_s,
                   "Seconds between master playlist fetches while a stream is not live (or refused)")
      ->check(kPositive)
      ->capture_default_str();
  download
      ->add_option("--segment-suspect-after", options.segment_suspect_after_s,
                   "A segment whose download took this many seconds is stored as suspect")
      ->check(kPositive)
      ->capture_default_str();
  twitch->add_option("--twitch-codecs", options.twitch.codecs, "supported_codecs for usher")->capture_default_str();

  auto* backfill = cli.add_option_group("Backfiller", "Fill what this node missed from peers (off without peers)");
  backfill->add_option("--peer", options.peers, "A peer's base URL (wubd or wubloader restreamer); repeatable");
  backfill->add_option("--peers-file", options.peers_file, "File of peer URLs, one a line; re-read when it changes");
  backfill->add_option("--backfill-streams", options.backfill_streams,
                       "Streams to backfill, comma-separated (default: all)");
  backfill->add_option("--backfill-variants", options.backfill_variants,
                       "Variants to backfill, comma-separated (default: all)");
  backfill
      ->add_option("--backfill-extras", options.backfill_extras,
                   "Extras directories to copy from peers (wubloader's --extras, e.g. emotes), comma-separated or "
                   "repeated; never streams")
      ->delimiter(',');
  backfill->add_option("--node-name", options.node_name,
                       "This node's name in a wubloader node file: lines naming it are skipped (default: the "
                       "host name)");
  backfill->add_option("--fill-wait", options.fill_wait_s, "Seconds between passes over the recent hours")
      ->check(kPositive)
      ->capture_default_str();
  backfill->add_option("--full-fill-wait", options.full_fill_wait_s, "Seconds between passes over all hours")
      ->check(kPositive)
      ->capture_default_str();
  backfill->add_option("--recent-hours", options.recent_hours, "Hours a recent pass covers (at least 1)")
      ->capture_default_str();
  backfill
      ->add_option("--recent-cutoff", options.recent_cutoff_s,
                   "Segments younger than this many seconds are left to the downloader")
      ->check(kNonNegative)
      ->capture_default_str();
  backfill->add_option("--backfill-order", options.backfill_order, "random, forward or reverse")->capture_default_str();
  backfill
      ->add_option("--backfill-hours", options.backfill_hours,
                   "What a full pass covers: all, last:N, or a comma-separated list of hours (2026-11-21T04)")
      ->capture_default_str();
  cli.add_option("--source-limit", options.source_limits,
                 "Transfer limits of one source (origin scheme://host:port or peer URL): SOURCE=N[,DELAY_SECONDS]; "
                 "repeatable (origins: 64 at once, peers: --peer-concurrency)");
  backfill->add_option("--peer-concurrency", options.peer_concurrency, "Downloads at once from one peer")
      ->check(kPositive)
      ->capture_default_str();

  auto* inspect = cli.add_subcommand("inspect-playlist", "Parse one playlist and print what wubd understood as JSON");
  inspect->add_option("source", options.inspect_source, "A playlist file or an http(s) URL")->required();
  inspect->add_option("--base-uri", options.inspect_base, "Resolve relative URIs against this URL");

  return inspect;
}

// Parses `args` into `options`; a CLI11 error is one line, naming the config file when
// it is the file's key or value that is wrong.
std::optional<core::Error> parse_flags(CLI::App& cli, const std::vector<std::string>& args) {
  std::vector<const char*> argv = {"wubd"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  try {
    cli.parse(int(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    throw;
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    std::string file = config_file_of(args);
    if (!file.empty() && e.get_name() == "ConfigError") {
      // CLI11 says "INI was not able to parse KEY": say which file, and that the key is unknown.
      std::string key = message.substr(message.rfind(' ') + 1);
      message = "unknown key \"" + key + "\" (no such flag --" + key + ")";
    }
    if (!file.empty() && e.get_name() != "FileError" && e.get_name() != "ConfigError") {
      // Was it the file? Parse the file alone: if that fails the same way, it was.
      Options alone;
      CLI::App again{"", "wubd"};
      define_flags(again, alone);
      std::vector<const char*> file_only = {"wubd", "--config", file.c_str()};
      try {
        again.parse(3, file_only.data());
      } catch (const CLI::ParseError&) {
        return core::make_error("--config " + file + ": " + message, 2);
      }
      return core::make_error(message, 2);
    }
    if (!file.empty() && e.get_name() == "ConfigError") return core::make_error("--config " + file + ": " + message, 2);
    return core::make_error(message, 2);
  }
  return std::nullopt;
}

}  // namespace

core::Result<Command> parse_command_line(const std::vector<std::string>& args) {
  Options options;
  CLI::App cli{"wubd: archives live HLS streams and serves the archive over HTTP", "wubd"};
  CLI::App* inspect = define_flags(cli, options);

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
  try {
    if (auto error = parse_flags(cli, args)) return *error;
  } catch (const CLI::CallForHelp&) {
    Command help;
    help.kind = Command::Kind::Print;
    help.output = cli.help();
    return help;
  }
  Command command;
  if (options.version) {
    command.kind = Command::Kind::Print;
    command.output = version_text();
    return command;
  }
  if (*inspect) {
    command.kind = Command::Kind::InspectPlaylist;
    command.inspect_source = options.inspect_source;
    command.inspect_base_uri = options.inspect_base;
    return command;
  }
  Config& config = command.config;
  config.args = args;
  config.config_file = config_file;
  config.effective = cli.config_to_str(true, false);
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
  config.restreamer.cut_cap.max_span = seconds(options.max_cut_hours * 3600);
  config.cache_hours = options.cache_hours;
  config.shutdown_timeout_ms = std::uint64_t(options.shutdown_timeout_s * 1000);
  config.temp_max_age = seconds(options.temp_max_age_s);
  return command;
}

}  // namespace wubd::app
