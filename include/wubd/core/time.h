#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wubd/core/result.h"

// Times in wubd are integer microseconds since the Unix epoch, UTC. They are never
// floating point: segment boundaries must compare exactly.
namespace wubd::core {

using Micros = std::int64_t;

inline constexpr Micros kMicrosPerMilli = 1'000;
inline constexpr Micros kMicrosPerSecond = 1'000'000;
inline constexpr Micros kMicrosPerHour = 3'600 * kMicrosPerSecond;

// The years an hour directory name (`%Y`, four digits) can hold, and that wubloader's
// Python datetimes can: 0001 to 9999. Times outside them are refused when parsed.
inline constexpr int kMinYear = 1;
inline constexpr int kMaxYear = 9999;

// Parses an ISO 8601 time as the HTTP API accepts it: `2026-11-21T04:05:06`,
// optional fractional seconds (up to 9 digits, truncated to microseconds), and an
// optional `Z` or `±HH:MM` / `±HHMM` / `±HH` offset, converted to UTC. Seconds and
// the whole time of day may be left out (`2026-11-21T04:05`, `2026-11-21`).
// A time whose UTC year is outside kMinYear..kMaxYear is an error too (no hour
// directory could hold it). Anything else is an error whose message quotes the input.
Result<Micros> parse_time(std::string_view text);

// `2026-11-21T04:05:06.789Z`: millisecond precision, as playlists carry it.
std::string format_time(Micros t);

// `2026-11-21T04:05:06.789012Z`: full precision, for logs and errors.
std::string format_time_us(Micros t);

// The hour directory name of a time: `%Y-%m-%dT%H` (`2026-11-21T04`).
std::string format_hour(Micros t);

// Parses an hour directory name back to the start of that hour (years kMinYear to
// kMaxYear).
Result<Micros> parse_hour(std::string_view hour);

// The start of the hour containing `t` (also for times before 1970).
Micros floor_hour(Micros t);

// `Sat, 21 Nov 2026 04:05:06 GMT` (RFC 9110 IMF-fixdate), for Last-Modified.
std::string format_http_date(Micros t);

// Civil date and time of day of a time, for formatters that build names in bulk.
struct CivilTime {
  int year;
  int month;   // 1-12
  int day;     // 1-31
  int hour;    // 0-23
  int minute;  // 0-59
  int second;  // 0-59
  int micros;  // 0-999999
};
CivilTime to_civil(Micros t);

}  // namespace wubd::core
