// The command line into a Config: defaults, every kind of value, and errors that name
// the flag (wubd prints them as one line and exits 2).
#include "wubd/app/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace wubd::app {
namespace {

Config parse_ok(std::vector<std::string> args) {
  auto command = parse_command_line(args);
  EXPECT_TRUE(command) << (command ? "" : command.error().message);
  if (!command) return {};
  EXPECT_EQ(command->kind, Command::Kind::Run);
  return command->config;
}

TEST(Config, DefaultsAreTheDocumentedOnes) {
  Config c = parse_ok({});
  EXPECT_EQ(c.base_dir, ".");
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 8000);
  EXPECT_EQ(c.http.idle_timeout_ms, 60'000u);
  EXPECT_EQ(c.http.header_timeout_ms, 10'000u);
  EXPECT_EQ(c.http.body_timeout_ms, 30'000u);
  EXPECT_EQ(c.http.max_connections, 1024u);
  EXPECT_EQ(c.restreamer.max_full_cuts, 4u);
  EXPECT_EQ(c.restreamer.playlist_cap.max_span, 24 * core::kMicrosPerHour);
  EXPECT_EQ(c.restreamer.cut_cap.max_span, 6 * core::kMicrosPerHour);
  EXPECT_EQ(c.shutdown_timeout_ms, 5000u);
  EXPECT_EQ(c.log.level, "info");
  EXPECT_FALSE(c.downloading());
  EXPECT_FALSE(c.backfilling());
}

TEST(Config, ValuesBecomeTheRolesConfigurations) {
  // Flags and their values, as on a command line.
  // clang-format off
  Config c = parse_ok({"--listen", ":9000", "--idle-timeout", "2.5", "--max-cut-hours", "1.5", "--live-settle", "7.5", "--download",
                       "db=http://127.0.0.1:1/master.m3u8", "--twitch", "SomeChannel", "--variants", "source,720p",
                       "--playlist-timeouts", "3,60", "--peer", "http://127.0.0.1:2", "--backfill-hours", "last:5",
                       "--source-limit", "http://127.0.0.1:2=2,0.5", "--logger-level", "http=debug"});
  // clang-format on
  EXPECT_EQ(c.listen_host, "0.0.0.0");
  EXPECT_EQ(c.listen_port, 9000);
  EXPECT_EQ(c.http.idle_timeout_ms, 2500u);
  EXPECT_EQ(c.restreamer.cut_cap.max_span, 90 * 60 * core::kMicrosPerSecond);
  EXPECT_EQ(c.restreamer.live_settle, 7'500'000);
  ASSERT_EQ(c.download.streams.size(), 2u);
  EXPECT_EQ(c.download.streams[0].name, "db");
  EXPECT_EQ(c.download.streams[0].provider, "hls");
  EXPECT_EQ(c.download.streams[1].name, "SomeChannel");
  EXPECT_EQ(c.download.streams[1].provider, "twitch");
  EXPECT_EQ(c.download.streams[0].variants, (std::vector<std::string>{"source", "720p"}));
  EXPECT_EQ(c.download.timings.playlist_soft_timeout, 3 * core::kMicrosPerSecond);
  EXPECT_EQ(c.download.timings.playlist_hard_timeout, 60 * core::kMicrosPerSecond);
  EXPECT_EQ(c.backfill.peers, std::vector<std::string>{"http://127.0.0.1:2"});
  EXPECT_EQ(c.backfill.full_pass_last_hours, 5);
  ASSERT_EQ(c.source_limits.size(), 1u);
  EXPECT_EQ(c.source_limits[0].first, "http://127.0.0.1:2");
  EXPECT_EQ(c.source_limits[0].second.max_concurrent, 2);
  EXPECT_EQ(c.source_limits[0].second.min_delay, 500 * core::kMicrosPerMilli);
  EXPECT_EQ(c.log.logger_levels.at("http"), "debug");
  EXPECT_TRUE(c.downloading());
  EXPECT_TRUE(c.backfilling());
}

TEST(Config, ListenForms) {
  struct Case {
    const char* flag;
    const char* host;
    int port;
  };
  const Case cases[] = {
      {"127.0.0.1:0", "127.0.0.1", 0}, {"[::1]:8080", "::1", 8080},     {"9001", "0.0.0.0", 9001},
      {":9002", "0.0.0.0", 9002},      {"localhost:7", "127.0.0.1", 7},
  };
  for (const Case& c : cases) {
    Config config = parse_ok({"--listen", c.flag});
    EXPECT_EQ(config.listen_host, c.host) << c.flag;
    EXPECT_EQ(config.listen_port, c.port) << c.flag;
  }
}

TEST(Config, BadValuesNameTheirFlag) {
  struct Case {
    std::vector<std::string> args;
    const char* says;  // the error starts with the flag, and holds this
  };
  const std::vector<Case> cases = {
      {{"--idle-timeout", "0"}, "--idle-timeout"},
      {{"--max-connections", "-3"}, "--max-connections"},
      {{"--listen", "127.0.0.1:99999"}, "--listen: \"127.0.0.1:99999\": bad port"},
      {{"--log-level", "loud"}, "--log-level: unknown log level \"loud\""},
      {{"--logger-level", "nosuch=debug"}, "--logger-level: unknown logger \"nosuch\""},
      {{"--playlist-timeouts", "5,1"}, "--playlist-timeouts: SOFT must not be above HARD"},
      {{"--peer", "ftp://x"}, "--peer: \"ftp://x\" is not an http:// or https:// URL"},
      {{"--download", "no-equals-sign"}, "--download: expected STREAM=URL"},
      {{"--header", "NoColon"}, "--header: expected \"Name: value\""},
      {{"--recent-hours", "0", "--peer", "http://x"}, "--recent-hours: must be at least 1"},
      {{"--backfill-order", "sideways"}, "--backfill-order"},
      {{"--source-limit", "http://x=0"}, "--source-limit"},
      {{"--twitch-usher-version", "3"}, "--twitch-usher-version: must be 1 or 2"},
      {{"--twitch-auth-file", "/nonexistent/token"}, "--twitch-auth-file: cannot read"},
      {{"--base-dir", "/nonexistent/archive"}, "--base-dir: \"/nonexistent/archive\""},
      {{"--no-such-flag"}, "no-such-flag"},
  };
  for (const Case& c : cases) {
    auto command = parse_command_line(c.args);
    ASSERT_FALSE(command) << c.args.front();
    EXPECT_EQ(command.error().code, 2) << c.args.front();
    EXPECT_NE(command.error().message.find(c.says), std::string::npos)
        << c.args.front() << ": " << command.error().message;
    EXPECT_EQ(command.error().message.find('\n'), std::string::npos) << "one line: " << command.error().message;
  }
}

TEST(Config, HelpAndSubcommands) {
  auto help = parse_command_line({"--help"});
  ASSERT_TRUE(help);
  EXPECT_EQ(help->kind, Command::Kind::Print);
  EXPECT_NE(help->output.find("--max-cut-hours"), std::string::npos);

  auto inspect = parse_command_line({"inspect-playlist", "some.m3u8", "--base-uri", "http://o/live/"});
  ASSERT_TRUE(inspect);
  EXPECT_EQ(inspect->kind, Command::Kind::InspectPlaylist);
  EXPECT_EQ(inspect->inspect_source, "some.m3u8");
  EXPECT_EQ(inspect->inspect_base_uri, "http://o/live/");
}

// A config file in a fresh temp directory; removed with the object.
class ConfigFile {
 public:
  ConfigFile(const std::string& text, const std::string& extension = ".toml") {
    char dir[] = "/tmp/wubd-config-XXXXXX";
    dir_ = mkdtemp(dir);
    path_ = dir_ + "/wubd" + extension;
    std::ofstream(path_) << text;
  }
  ~ConfigFile() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
};

TEST(Config, EveryFlagFromAFileAndTheCommandLineWins) {
  ConfigFile toml(
      "listen = \"127.0.0.1:9100\"\n"
      "max-connections = 7\n"
      "peer = [\"http://10.0.0.2:8000\", \"http://10.0.0.3:8000\"]\n"
      "backfill-extras = \"emotes\"\n"
      "logger-level = [\"http=debug\"]\n");
  Config c = parse_ok({"--config", toml.path(), "--max-connections", "9"});
  EXPECT_EQ(c.listen_port, 9100);
  EXPECT_EQ(c.http.max_connections, 9u);  // the command line wins
  EXPECT_EQ(c.backfill.peers.size(), 2u);
  EXPECT_EQ(c.backfill.extras, std::vector<std::string>{"emotes"});
  EXPECT_EQ(c.config_file, toml.path());
  EXPECT_EQ(c.args.size(), 4u);
  ConfigFile ini("[default]\nlisten=127.0.0.1:9200\nidle-timeout=3\n", ".ini");
  Config from_ini = parse_ok({"--config", ini.path()});
  EXPECT_EQ(from_ini.listen_port, 9200);
  EXPECT_EQ(from_ini.http.idle_timeout_ms, 3000u);
}

TEST(Config, RetentionFlagsPerStreamAndOverall) {
  ConfigFile toml(
      "keep-hours = [\"48\", \"db=168\"]\n"
      "keep-bytes = [\"2T\", \"db=500G\"]\n"
      "keep-range = [\"db=2026-11-21T04:00:00Z/2026-11-21T06:00:00Z\"]\n");
  Config c = parse_ok({"--config", toml.path(), "--retention-interval", "30"});
  ASSERT_TRUE(c.keep.keep_for.has_value());
  EXPECT_EQ(*c.keep.keep_for, 48 * core::kMicrosPerHour);
  EXPECT_EQ(c.keep.keep_for_stream.at("db"), 168 * core::kMicrosPerHour);
  EXPECT_EQ(*c.keep.keep_bytes, 2LL << 40);
  EXPECT_EQ(c.keep.keep_bytes_stream.at("db"), 500LL << 30);
  ASSERT_EQ(c.keep_ranges.size(), 1u);
  EXPECT_EQ(c.keep_ranges[0].stream, "db");
  EXPECT_EQ(c.retention_interval, 30 * core::kMicrosPerSecond);
  EXPECT_TRUE(parse_ok({}).keep.empty());  // nothing is deleted unless asked
}

TEST(Config, AFilesUnknownKeysAndBadValuesNameTheKeyAndTheFile) {
  struct Case {
    std::string text;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"lisen = \"127.0.0.1:1\"\n", "unknown key \"lisen\""},
      {"max-connections = -3\n", "max-connections"},
      {"recent-hours = 0\npeer = [\"http://x\"]\n", "recent-hours: must be at least 1"},
      {"log-level = \"loud\"\n", "log-level: unknown log level \"loud\""},
  };
  for (const Case& c : cases) {
    ConfigFile file(c.text);
    auto command = parse_command_line({"--config", file.path()});
    ASSERT_FALSE(command) << c.text;
    EXPECT_EQ(command.error().code, 2);
    const std::string& message = command.error().message;
    EXPECT_NE(message.find(file.path()), std::string::npos) << message;
    EXPECT_NE(message.find(c.says), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  // A bad value on the command line is the command line's, not the file's.
  ConfigFile fine("idle-timeout = 3\n");
  auto command = parse_command_line({"--config", fine.path(), "--max-connections", "-3"});
  ASSERT_FALSE(command);
  EXPECT_EQ(command.error().message.find(fine.path()), std::string::npos) << command.error().message;
  auto missing = parse_command_line({"--config", "/nonexistent/wubd.toml"});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nonexistent/wubd.toml"), std::string::npos);
}

TEST(Config, VersionNamesWubdAndItsLibraries) {
  auto version = parse_command_line({"--version"});
  ASSERT_TRUE(version);
  EXPECT_EQ(version->kind, Command::Kind::Print);
  EXPECT_EQ(version->output.rfind("wubd ", 0), 0u);
  for (const char* library : {"libuv", "curl", "llhttp", "ffmpeg", "openssl", "simdjson", "spdlog"}) {
    EXPECT_NE(version->output.find(std::string("\n  ") + library + " "), std::string::npos) << library;
  }
}

}  // namespace
}  // namespace wubd::app
