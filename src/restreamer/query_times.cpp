#include "query_times.h"

namespace wubd::restreamer {

core::Result<std::optional<core::Micros>> optional_time(const core::QueryParams& query, std::string_view name) {
  auto it = query.find(name);
  if (it == query.end()) return std::optional<core::Micros>{};
  auto t = core::parse_time(it->second);
  if (!t) return core::make_error("bad " + std::string(name) + ": " + t.error().message, 400);
  return std::optional<core::Micros>{*t};
}

core::Result<core::Micros> required_time(const core::QueryParams& query, std::string_view name) {
  auto t = optional_time(query, name);
  if (!t) return t.error();
  if (!*t) return core::make_error(std::string(name) + " is required", 400);
  return **t;
}

core::Result<RangeParams> range_params(const core::QueryParams& query) {
  auto start = optional_time(query, "start");
  if (!start) return start.error();
  auto end = optional_time(query, "end");
  if (!end) return end.error();
  return RangeParams{*start, *end};
}

}  // namespace wubd::restreamer
