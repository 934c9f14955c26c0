#include "config_flags.h"

#include <cmath>
#include <cstdlib>

#include <CLI/CLI.hpp>

namespace wubd::app {

// The --config file named in `args` (CLI11 does not keep it once it has read it).
std::string config_file_of(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) return args[i + 1];
    if (args[i].rfind("--config=", 0) == 0) return args[i].substr(9);
  }
  return {};
}

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

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

// Declares every flag of `cli`, storing into `options`; returns the inspect-playlist
// subcommand.
// Over 100 lines on purpose: the flag table itself, one statement a flag in the order
// --help shows them: split, the help's order would live in two places.
// NOLINTNEXTLINE(readability-function-size)
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
  cli.add_option("--live-settle", options.live_settle_s,
                 "Seconds at a live playlist's edge in which a hole ends the playlist until it settles (0: off)")
      ->check(kNonNegative)
      ->capture_default_str();
  cli.add_option("--max-cut-hours", options.max_cut_hours,
                 "Longest range a cut covers (its ranges together); longer ones get 400")
      ->check(kPositive)
      ->capture_default_str();
  cli.add_option("--max-frame-jobs", options.max_frame_jobs,
                 "Frames and thumbnails made at once; 64 more wait their turn, beyond that 503 with Retry-After")
      ->check(kPositive)
      ->capture_default_str();
  cli.add_option("--cut-cache-bytes", options.cut_cache_bytes,
                 "Seekable MP4 clips (/cut/S/V.mp4) kept in BASE/.wubd-cut-cache, least recently used removed first "
                 "(K, M, G, T: powers of 1024)")
      ->capture_default_str();
  cli.add_option("--thumbnail-templates", options.thumbnail_templates,
                 "Directory of named thumbnail templates (NAME.png, NAME.json with its crop and location) for "
                 "GET /thumbnail; without it only POST with an uploaded template works");
  auto* console = cli.add_option_group("Console", "The operator's way into the live process");
  console->add_option("--console", options.console,
                      "unix:/run/wubd/console.sock (mode 0600, removed at exit) or 127.0.0.1:PORT; off by default");
  console->add_flag("--console-allow-remote", options.console_allow_remote,
                    "Let --console listen on a non-loopback address (it has no authentication)");
  cli.add_option("--cache-hours", options.cache_hours,
                 "Hour directory listings kept in memory; the index reads the newest N at start")
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

  auto* retention =
      cli.add_option_group("Retention", "Deleting the oldest hours when the archive grows too old or too big");
  retention->add_option("--keep-hours", options.keep_hours,
                        "Delete hours older than this many hours: N for every stream, STREAM=N for one; repeatable");
  retention->add_option("--keep-bytes", options.keep_bytes,
                        "Delete the oldest hours while the archive (N) or a stream (STREAM=N) is bigger than N bytes "
                        "(K, M, G, T: powers of 1024); repeatable");
  retention->add_option("--keep-range", options.keep_ranges,
                        "Never delete from this range: [STREAM=]START/END (RFC 3339 times); repeatable");
  retention->add_option("--retention-interval", options.retention_interval_s, "Seconds between retention passes")
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

Flags read_flags(const std::vector<std::string>& args) {
  Flags flags;
  CLI::App cli{"wubd: archives live HLS streams and serves the archive over HTTP", "wubd"};
  CLI::App* inspect = define_flags(cli, flags.options);
  try {
    flags.error = parse_flags(cli, args);
  } catch (const CLI::CallForHelp&) {
    flags.help = true;
    flags.help_text = cli.help();
    return flags;
  }
  if (flags.error) return flags;
  flags.inspect = bool(*inspect);
  flags.effective = cli.config_to_str(true, false);
  return flags;
}

}  // namespace wubd::app
