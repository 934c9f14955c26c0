#include "wubd/app/console.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include <cJSON.h>
#include <spdlog/spdlog.h>

#include "app_log.h"
#include "wubd/app/process_metrics.h"
#include "wubd/app/version.h"
#include "wubd/backfiller/backfiller.h"
#include "wubd/core/time.h"
#include "wubd/downloader/downloader.h"
#include "wubd/io/clock.h"
#include "wubd/io/http_server.h"
#include "wubd/io/json_text.h"
#include "wubd/log/log.h"
#include "wubd/transfers/transfer_engine.h"

namespace wubd::app {
namespace {

std::vector<std::string> split_words(std::string_view line) {
  std::vector<std::string> words;
  std::istringstream in{std::string(line)};
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", seconds);
  return text;
}

std::string millis_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f ms", seconds * 1e3);
  return text;
}

std::string mib_text(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", bytes / (1 << 20));
  return text;
}

// Printable, and short: what a garbage line is echoed back as.

struct CommandSpec {
  std::string_view name;
  std::string_view usage;
};

constexpr CommandSpec kCommands[] = {
    {"help", "help: this list"},
    {"status", "status: uptime, version, roles, memory, descriptors, connections, loop lag"},
    {"streams", "streams: each downloaded stream's state, workers, getters, last error"},
    {"workers", "workers: each playlist worker: stream, variant, URL age, state, getters, last segment"},
    {"getters", "getters: segment getters in flight, per stream and variant"},
    {"transfers", "transfers [STATE] [SOURCE]: the transfer engine's records (as /jobs), newest last"},
    {"cancel", "cancel TRANSFER_ID: cancel a queued or running transfer (the id /jobs shows)"},
    {"peers", "peers: each peer's state, last pass, next pass, passes with errors"},
    {"backfill", "backfill [PEER]: start a full pass now, on one peer or all"},
    {"refresh", "refresh STREAM: fetch the stream's master playlist now"},
    {"loglevel", "loglevel [LOGGER] LEVEL: change a logger's level (all without LOGGER), live"},
    {"config", "config: the effective configuration, as a config file says it"},
    {"retention",
     "retention [run]: the limits, the archive's size per stream, the last pass, deletions; run: a pass now"},
    {"locks", "locks: the ranges retention must not delete from (--keep-range and `lock`)"},
    {"lock", "lock [STREAM=]START/END [NOTE]: keep a range from retention until `unlock` (not kept across restarts)"},
    {"unlock", "unlock LOCK_ID: let retention delete that range again"},
    {"quit", "quit: close this session"},
};

}  // namespace

std::string ConsoleAnswer::shown(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 60)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

std::string ConsoleAnswer::text() const {
  if (!error.empty()) return "error: " + error + "\n";
  std::string out;
  if (!fields.empty()) {
    std::size_t width = 0;
    for (const auto& [key, value] : fields) width = std::max(width, key.size());
    for (const auto& [key, value] : fields) {
      out += key;
      out += ':';
      out.append(width - key.size() + 1, ' ');
      out += value;
      out += '\n';
    }
  }
  if (!columns.empty()) {
    std::vector<std::size_t> widths(columns.size());
    for (std::size_t i = 0; i < columns.size(); ++i) widths[i] = columns[i].size();
    for (const auto& row : rows) {
      for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    auto line = [&widths](const std::vector<std::string>& cells) {
      std::string text;
      for (std::size_t i = 0; i < cells.size(); ++i) {
        text += cells[i];
        if (i + 1 < cells.size()) text += std::string(widths[i] - cells[i].size() + 2, ' ');
      }
      return text + "\n";
    };
    out += line(columns);
    for (const auto& row : rows) out += line(row);
    if (rows.empty()) out += "(none)\n";
  }
  return out;
}

std::string ConsoleAnswer::json() const {
  cJSON* root = cJSON_CreateObject();
  cJSON_AddBoolToObject(root, "ok", error.empty());
  if (!error.empty()) cJSON_AddStringToObject(root, "error", error.c_str());
  for (const auto& [key, value] : fields) cJSON_AddStringToObject(root, key.c_str(), value.c_str());
  if (!columns.empty()) {
    cJSON* array = cJSON_AddArrayToObject(root, "rows");
    for (const auto& row : rows) {
      cJSON* item = cJSON_CreateObject();
      for (std::size_t i = 0; i < columns.size() && i < row.size(); ++i) {
        cJSON_AddStringToObject(item, columns[i].c_str(), row[i].c_str());
      }
      cJSON_AddItemToArray(array, item);
    }
  }
  return io::take_json_text(root) + "\n";
}

Console::Console(uv_loop_t* loop, ConsoleParts parts)
    : parts_(std::move(parts)),
      server_(
          loop,
          [](io::LineSession& session) {
            log().info("{}: connected", session.name());
            session.send("wubd " + version() + " console: `help` lists the commands, `json CMD` answers in JSON\n> ");
          },
          [this](io::LineSession& session, std::string_view line) { on_line(session, line); }) {}

Console::~Console() = default;

void Console::on_line(io::LineSession& session, std::string_view line) {
  bool json = false;
  std::vector<std::string> words = split_words(line);
  if (!words.empty() && words[0] == "json") {
    json = true;
    words.erase(words.begin());
  }
  if (words.empty() && !json) {
    session.send("> ");
    return;
  }
  std::string rest;
  for (const std::string& w : words) rest += (rest.empty() ? "" : " ") + w;
  ConsoleAnswer answer = run(rest, session.name());
  session.send(json ? answer.json() : answer.text());
  if (answer.quit) {
    log().info("{}: quit", session.name());
    session.close();
    return;
  }
  session.send("> ");
}

// Over 100 lines on purpose: the console's command table, one short branch a command;
// to become a map of handlers when it next grows.
// NOLINTNEXTLINE(readability-function-size)
ConsoleAnswer Console::run(std::string_view line, const std::string& who) {
  std::vector<std::string> words = split_words(line);
  if (words.empty()) return ConsoleAnswer::failure("no command; `help` lists them");
  const std::string& command = words[0];
  std::vector<std::string> args(words.begin() + 1, words.end());
  ConsoleAnswer answer;
  downloader::Downloader* downloader = parts_.downloader();
  backfiller::Backfiller* backfiller = parts_.backfiller();

  if (command == "help") {
    answer.columns = {"command", "usage"};
    for (const CommandSpec& spec : kCommands) answer.rows.push_back({std::string(spec.name), std::string(spec.usage)});
    return answer;
  }
  if (command == "quit" || command == "exit") {
    answer.fields = {{"bye", "closing the session"}};
    answer.quit = true;
    return answer;
  }
  if (command == "status") {
    ProcessSample sample = sample_process();
    double uptime = double(io::wall_clock_now() - parts_.started_at) / 1e6;
    answer.fields = {
        {"version", version()},
        {"uptime", seconds_text(uptime)},
        {"roles", parts_.roles()},
        {"rss", mib_text(sample.resident_bytes)},
        {"open_fds", std::to_string(int(sample.open_fds)) + " of " + std::to_string(int(sample.max_fds))},
        {"cpu", seconds_text(sample.cpu_seconds)},
        {"http_connections", std::to_string(parts_.server.connection_count())},
        {"console_sessions", std::to_string(sessions())},
        {"transfers", std::to_string(parts_.engine.active())},
        {"loop_lag", millis_text(parts_.process.last_lag_seconds()) + " now, " +
                         millis_text(parts_.process.worst_recent_lag_seconds()) + " worst since the last status"},
    };
    return answer;
  }
  if (command == "streams") {
    if (!downloader) return ConsoleAnswer::failure("this process is not downloading (no --download or --twitch)");
    answer.columns = {"stream", "state", "workers", "getters", "last_error"};
    for (const auto& s : downloader->streams()) {
      answer.rows.push_back({s.stream, s.state, std::to_string(s.workers), std::to_string(s.getters),
                             s.last_error.empty() ? "-" : s.last_error});
    }
    return answer;
  }
  if (command == "workers" || command == "getters") {
    if (!downloader) return ConsoleAnswer::failure("this process is not downloading (no --download or --twitch)");
    if (command == "workers") {
      answer.columns = {"stream", "variant", "worker", "url_age", "state", "getters", "last_segment"};
    } else {
      answer.columns = {"stream", "variant", "worker", "getters"};
    }
    for (const auto& w : downloader->workers()) {
      if (command == "workers") {
        answer.rows.push_back({w.stream, w.variant, std::to_string(w.id), seconds_text(w.url_age_seconds), w.state,
                               std::to_string(w.getters), w.last_segment.empty() ? "-" : w.last_segment});
      } else if (w.getters > 0) {
        answer.rows.push_back({w.stream, w.variant, std::to_string(w.id), std::to_string(w.getters)});
      }
    }
    return answer;
  }
  if (command == "transfers") {
    std::optional<core::TransferState> state;
    std::string source;
    for (const std::string& arg : args) {
      bool is_state = false;
      for (auto s : {core::TransferState::Initializing, core::TransferState::InProgress, core::TransferState::Completed,
                     core::TransferState::Errored, core::TransferState::Cancelled}) {
        if (core::to_string(s) == arg) {
          state = s;
          is_state = true;
        }
      }
      if (!is_state) source = arg;
    }
    answer.columns = {"id", "state", "source", "target", "file", "bytes", "error"};
    for (const auto& r : parts_.engine.list(state, source)) {
      answer.rows.push_back({std::to_string(std::uint64_t(r.id)), std::string(core::to_string(r.state)), r.source,
                             r.target, r.file_name, std::to_string(r.bytes), r.error.empty() ? "-" : r.error});
    }
    return answer;
  }
  if (command == "cancel") {
    if (args.size() != 1) return ConsoleAnswer::failure("usage: cancel TRANSFER_ID");
    std::uint64_t id = 0;
    if (std::sscanf(args[0].c_str(), "%lu", &id) != 1 || id == 0)
      return ConsoleAnswer::failure("not a transfer id: " + ConsoleAnswer::shown(args[0]));
    if (!parts_.engine.cancel(transfers::TransferId(id))) {
      return ConsoleAnswer::failure("transfer " + args[0] + " is not queued or running (see `transfers`)");
    }
    log().info("{}: cancelled transfer {}", who, id);
    answer.fields = {{"cancelled", args[0]}};
    return answer;
  }
  if (command == "peers") {
    if (!backfiller) return ConsoleAnswer::failure("this process is not backfilling (no --peer or --peers-file)");
    answer.columns = {"peer", "state", "last_pass", "last_pass_end", "next_pass_in", "passes_with_errors"};
    for (const auto& p : backfiller->peer_infos()) {
      answer.rows.push_back({p.peer, p.state, p.last_pass.empty() ? "-" : p.last_pass,
                             p.last_pass_end > 0 ? core::format_time(core::Micros(p.last_pass_end * 1e6)) : "-",
                             p.state == "waiting" ? seconds_text(p.next_pass_in) : "-", std::to_string(p.errors)});
    }
    return answer;
  }
  if (command == "backfill") {
    if (!backfiller) return ConsoleAnswer::failure("this process is not backfilling (no --peer or --peers-file)");
    if (args.size() > 1) return ConsoleAnswer::failure("usage: backfill [PEER]");
    std::vector<std::string> said = backfiller->backfill_now(args.empty() ? "" : args[0]);
    answer.columns = {"result"};
    for (const std::string& line : said) {
      log().info("{}: backfill: {}", who, line);
      answer.rows.push_back({line});
    }
    return answer;
  }
  if (command == "refresh") {
    if (!downloader) return ConsoleAnswer::failure("this process is not downloading (no --download or --twitch)");
    if (args.size() != 1) return ConsoleAnswer::failure("usage: refresh STREAM");
    if (!downloader->refresh(args[0]))
      return ConsoleAnswer::failure("no such stream: " + ConsoleAnswer::shown(args[0]));
    log().info("{}: refresh {}: fetching its master playlist now", who, args[0]);
    answer.fields = {{"refreshing", args[0]}};
    return answer;
  }
  if (command == "loglevel") {
    if (args.empty() || args.size() > 2) return ConsoleAnswer::failure("usage: loglevel [LOGGER] LEVEL");
    std::string logger = args.size() == 2 ? args[0] : "";
    const std::string& level = args.back();
    if (auto ok = log::set_level(logger, level); !ok) return ConsoleAnswer::failure(ok.error().message);
    log().info("{}: loglevel: {} now at {}", who, logger.empty() ? "every logger" : logger, level);
    answer.fields = {{"logger", logger.empty() ? "all" : logger}, {"level", level}};
    return answer;
  }
  if (command == "retention" || command == "locks" || command == "lock" || command == "unlock") {
    return run_retention(command, args, who);
  }
  if (command == "config") {
    answer.fields = {{"config", "\n" + parts_.effective_config()}};
    return answer;
  }
  return ConsoleAnswer::failure("unknown command \"" + ConsoleAnswer::shown(command) + "\"; `help` lists them");
}

}  // namespace wubd::app
