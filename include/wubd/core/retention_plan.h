#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wubd/core/range_limits.h"
#include "wubd/core/result.h"
#include "wubd/core/time.h"

// Retention for archives whose disks fill: which hour directories go, whole, oldest
// first. Pure: the measuring and deleting is store/retention.cpp's.
namespace wubd::core {

// One hour directory of one variant, as measured: every file in it counted.
struct ArchiveHour {
  std::string stream;
  std::string variant;
  Micros start = 0;  // the hour's start
  std::int64_t bytes = 0;
  std::int64_t files = 0;
};

// What the flags ask to keep. A stream's own limit applies to it; the overall
// --keep-hours to every stream without its own; the overall --keep-bytes to the
// archive as a whole (every stream together), besides each stream's own.
struct KeepPolicy {
  std::optional<Micros> keep_for;                         // --keep-hours N
  std::map<std::string, Micros> keep_for_stream;          // --keep-hours STREAM=N
  std::optional<std::int64_t> keep_bytes;                 // --keep-bytes N
  std::map<std::string, std::int64_t> keep_bytes_stream;  // --keep-bytes STREAM=N
  bool empty() const { return !keep_for && keep_for_stream.empty() && !keep_bytes && keep_bytes_stream.empty(); }
};

// A range nothing may be deleted from: an operator's lock (--keep-range, the
// console's `lock`) or a cut in progress. An empty stream holds every stream.
struct HeldRange {
  std::string stream;
  TimeRange range;
};

struct HourDeletion {
  ArchiveHour hour;
  std::string reason;  // "older than --keep-hours 48", "db over --keep-bytes 500G"
};

struct RetentionPlan {
  std::vector<HourDeletion> deletions;  // oldest first
  // Limits that cannot be met because every hour left is held or current, one line each.
  std::vector<std::string> unmet;
};

// How long `stream` keeps its hours: its own --keep-hours, else the overall one.
std::optional<Micros> keep_for(const KeepPolicy& policy, const std::string& stream);

// Whether the hour starting at `hour` of `stream` overlaps one of `held`.
bool hour_is_held(const std::string& stream, Micros hour, const std::vector<HeldRange>& held);

// The hours to delete now: first those older than their stream's --keep-hours (an
// hour goes once all of it is older), then, oldest first, until each stream with a
// --keep-bytes is within it, then until the whole archive is within the overall one.
// Never the hour `now` is in (or a later one), never an hour that overlaps a held
// range. Variants of one hour are deleted together as far as the limits allow.
RetentionPlan plan_retention(std::vector<ArchiveHour> hours, const KeepPolicy& policy,
                             const std::vector<HeldRange>& held, Micros now);

// `N`, `N.5`, with an optional K, M, G or T (powers of 1024, as du -h says them).
Result<std::int64_t> parse_byte_size(std::string_view text);
// The same, written the short way: 536870912000 -> "500G"; exact multiples only, else bytes.
std::string format_byte_size(std::int64_t bytes);

// `[STREAM=]VALUE` flags: the stream (empty for every stream) and the value's text.
std::pair<std::string, std::string_view> split_stream_value(std::string_view text);

// `--keep-range [STREAM=]START/END` (RFC 3339 times, START before END).
Result<HeldRange> parse_keep_range(std::string_view text);

}  // namespace wubd::core
