#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "wubd/core/result.h"
#include "wubd/core/time.h"
#include "wubd/core/url.h"

// Times in a request's query (ISO 8601, core::parse_time), with the errors every
// route gives: a 400 naming the parameter.
namespace wubd::restreamer {

// An optional time parameter: nullopt when absent.
core::Result<std::optional<core::Micros>> optional_time(const core::QueryParams& query, std::string_view name);
// A required one: "NAME is required" when absent.
core::Result<core::Micros> required_time(const core::QueryParams& query, std::string_view name);

// `start` and `end`, both optional; the first bad one is the error.
struct RangeParams {
  std::optional<core::Micros> start;
  std::optional<core::Micros> end;
};
core::Result<RangeParams> range_params(const core::QueryParams& query);

}  // namespace wubd::restreamer
