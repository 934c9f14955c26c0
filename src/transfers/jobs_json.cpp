#include "wubd/transfers/jobs_json.h"

#include "wubd/io/clock.h"
#include "wubd/io/json_text.h"

#include <cJSON.h>

namespace wubd::transfers {
namespace {

std::optional<core::TransferState> parse_state(const std::string& text) {
  for (auto state : {core::TransferState::Initializing, core::TransferState::InProgress, core::TransferState::Completed,
                     core::TransferState::Errored, core::TransferState::Cancelled}) {
    if (core::to_string(state) == text) return state;
  }
  return std::nullopt;
}

cJSON* time_or_null(core::Micros t) {
  return t ? cJSON_CreateString(core::format_time_us(t).c_str()) : cJSON_CreateNull();
}

}  // namespace

void answer_jobs(const TransferEngine& engine, const core::QueryParams& query, io::HttpResponse& response) {
  std::optional<core::TransferState> state;
  if (auto it = query.find("state"); it != query.end()) {
    state = parse_state(it->second);
    if (!state) {
      return response.send_error(
          400, "Bad state \"" + it->second + "\": use Initializing, InProgress, Completed, Errored or Cancelled");
    }
  }
  std::string source;
  if (auto it = query.find("source"); it != query.end()) source = it->second;
  core::Micros now = io::wall_clock_now();
  cJSON* array = cJSON_CreateArray();
  for (const TransferRecord& r : engine.list(state, source)) {
    cJSON* item = cJSON_CreateObject();
    cJSON_AddNumberToObject(item, "id", double(std::uint64_t(r.id)));
    cJSON_AddStringToObject(item, "source", r.source.c_str());
    cJSON_AddStringToObject(item, "target", r.target.c_str());
    cJSON_AddStringToObject(item, "file_name", r.file_name.c_str());
    cJSON_AddStringToObject(item, "state", std::string(core::to_string(r.state)).c_str());
    cJSON_AddNumberToObject(item, "bytes", double(r.bytes));
    cJSON_AddNumberToObject(item, "bytes_per_second", r.bytes_per_second(now));
    if (r.error.empty()) {
      cJSON_AddNullToObject(item, "error");
    } else {
      cJSON_AddStringToObject(item, "error", r.error.c_str());
    }
    cJSON_AddItemToObject(item, "queued_at", time_or_null(r.queued_at));
    cJSON_AddItemToObject(item, "started_at", time_or_null(r.started_at));
    cJSON_AddItemToObject(item, "finished_at", time_or_null(r.finished_at));
    cJSON_AddItemToArray(array, item);
  }
  std::string body = io::take_json_text(array);
  response.send(200, "application/json", std::move(body));
}

}  // namespace wubd::transfers
