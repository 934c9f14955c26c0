#include "wubd/core/range_limits.h"

#include <algorithm>
#include <cstdio>

namespace wubd::core {
namespace {

std::string hours_text(Micros span) {
  char text[48];
  std::snprintf(text, sizeof text, "%.1f", double(span) / double(kMicrosPerHour));
  return text;
}

}  // namespace

std::optional<Error> check_range_cap(Micros span, const RangeCap& cap) {
  if (span <= cap.max_span) return std::nullopt;
  return make_error("range of " + hours_text(span) + " hours is longer than the " + hours_text(cap.max_span) +
                        " hours " + cap.flag + " allows; ask for a shorter range",
                    400);
}

Result<TimeRange> playlist_range(std::optional<Micros> start, std::optional<Micros> end, const TimeRange& available,
                                 const RangeCap& cap) {
  TimeRange range;
  range.end = end.value_or(available.end);
  if (start) {
    range.start = *start;
  } else {
    range.start = std::max(available.start, range.end - cap.max_span);
  }
  if (range.start >= range.end) return range;
  if (auto error = check_range_cap(range.span(), cap)) return *error;
  return range;
}

}  // namespace wubd::core
