// The console's retention commands: what retention keeps and did, and the operator's
// locks on ranges it must not delete from.
#include <spdlog/spdlog.h>

#include "app_log.h"
#include "wubd/app/console.h"
#include "wubd/core/flag_values.h"
#include "wubd/log/log.h"
#include "wubd/store/range_holds.h"
#include "wubd/store/retention.h"

namespace wubd::app {
namespace {

std::string range_text(const core::HeldRange& held) {
  return (held.stream.empty() ? "every stream" : held.stream) + " " + core::format_time(held.range.start) + "/" +
         core::format_time(held.range.end);
}

// "--keep-hours 48, --keep-hours db=168, --keep-bytes 2T": the limits as flags say them.
std::string policy_text(const core::KeepPolicy& policy) {
  auto hours = [](core::Micros span) { return fmt::format("{:g}", double(span) / double(core::kMicrosPerHour)); };
  std::vector<std::string> parts;
  if (policy.keep_for) parts.push_back("--keep-hours " + hours(*policy.keep_for));
  for (const auto& [stream, span] : policy.keep_for_stream)
    parts.push_back("--keep-hours " + stream + "=" + hours(span));
  if (policy.keep_bytes) parts.push_back("--keep-bytes " + core::format_byte_size(*policy.keep_bytes));
  for (const auto& [stream, bytes] : policy.keep_bytes_stream) {
    parts.push_back("--keep-bytes " + stream + "=" + core::format_byte_size(bytes));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

ConsoleAnswer Console::run_retention(const std::string& command, const std::vector<std::string>& args,
                                     const std::string& who) {
  ConsoleAnswer answer;
  store::RangeHolds& holds = parts_.holds;
  if (command == "locks") {
    answer.columns = {"id", "stream", "start", "end", "note"};
    for (const auto& lock : holds.locks()) {
      answer.rows.push_back({std::to_string(lock.id), lock.held.stream.empty() ? "*" : lock.held.stream,
                             core::format_time(lock.held.range.start), core::format_time(lock.held.range.end),
                             lock.note.empty() ? "-" : lock.note});
    }
    return answer;
  }
  if (command == "lock") {
    if (args.empty()) return ConsoleAnswer::failure("usage: lock [STREAM=]START/END [NOTE]");
    auto range = core::parse_keep_range(args[0]);
    if (!range) return ConsoleAnswer::failure(ConsoleAnswer::shown(range.error().message));
    std::string note = who;
    for (std::size_t i = 1; i < args.size(); ++i) note += (i == 1 ? ": " : " ") + args[i];
    std::uint64_t id = holds.lock(*range, note);
    log().info("{}: lock {}: retention keeps {}", who, id, range_text(*range));
    answer.fields = {{"locked", std::to_string(id)}, {"range", range_text(*range)}};
    return answer;
  }
  if (command == "unlock") {
    std::uint64_t id = 0;
    if (args.size() != 1 || std::sscanf(args[0].c_str(), "%lu", &id) != 1 || id == 0) {
      return ConsoleAnswer::failure("usage: unlock LOCK_ID (the id `locks` shows)");
    }
    if (!holds.unlock(id)) return ConsoleAnswer::failure("no lock " + ConsoleAnswer::shown(args[0]) + " (see `locks`)");
    log().info("{}: unlock {}: retention may delete that range again", who, id);
    answer.fields = {{"unlocked", args[0]}};
    return answer;
  }
  // retention [run]
  store::Retention* retention = parts_.retention();
  if (!retention) return ConsoleAnswer::failure("retention is off (no --keep-hours or --keep-bytes)");
  if (args.size() > 1 || (args.size() == 1 && args[0] != "run"))
    return ConsoleAnswer::failure("usage: retention [run]");
  if (!args.empty()) {
    retention->run_now();
    log().info("{}: retention: a pass now", who);
  }
  const store::RetentionStatus& status = retention->status();
  answer.fields = {
      {"limits", policy_text(retention->policy())},
      {"last_pass", status.last_pass > 0 ? core::format_time(core::Micros(status.last_pass * 1e6)) : "-"},
      {"last_result", status.last_result.empty() ? "-" : status.last_result},
      {"hours_deleted", std::to_string(status.hours_deleted)},
      {"bytes_deleted", std::to_string(status.bytes_deleted)},
      {"locks", std::to_string(holds.locks().size())},
      {"cuts_holding", std::to_string(holds.cuts_holding())},
  };
  for (const auto& [stream, bytes] : status.stream_bytes)
    answer.fields.emplace_back("bytes " + stream, std::to_string(bytes));
  for (const std::string& line : status.unmet) answer.fields.emplace_back("unmet", line);
  return answer;
}

}  // namespace wubd::app
