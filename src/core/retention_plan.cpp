#include "wubd/core/retention_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>

namespace wubd::core {
namespace {

// Hours as --keep-hours takes them: "48", "0.5".
std::string flag_hours(Micros span) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", double(span) / double(kMicrosPerHour));
  return text;
}

}  // namespace

std::optional<Micros> keep_for(const KeepPolicy& policy, const std::string& stream) {
  auto own = policy.keep_for_stream.find(stream);
  return own != policy.keep_for_stream.end() ? std::optional<Micros>(own->second) : policy.keep_for;
}

bool hour_is_held(const std::string& stream, Micros hour, const std::vector<HeldRange>& held) {
  return std::any_of(held.begin(), held.end(), [&](const HeldRange& h) {
    return (h.stream.empty() || h.stream == stream) && h.range.start < hour + kMicrosPerHour && hour < h.range.end;
  });
}

RetentionPlan plan_retention(std::vector<ArchiveHour> hours, const KeepPolicy& policy,
                             const std::vector<HeldRange>& held, Micros now) {
  RetentionPlan plan;
  std::sort(hours.begin(), hours.end(), [](const ArchiveHour& a, const ArchiveHour& b) {
    return std::tie(a.start, a.stream, a.variant) < std::tie(b.start, b.stream, b.variant);
  });
  Micros current_hour = floor_hour(now);
  std::vector<bool> gone(hours.size(), false);
  std::vector<bool> deletable(hours.size(), false);
  for (std::size_t i = 0; i < hours.size(); ++i) {
    deletable[i] = hours[i].start < current_hour && !hour_is_held(hours[i].stream, hours[i].start, held);
  }
  auto remove = [&](std::size_t i, std::string reason) {
    gone[i] = true;
    plan.deletions.push_back({hours[i], std::move(reason)});
  };

  for (std::size_t i = 0; i < hours.size(); ++i) {
    const ArchiveHour& hour = hours[i];
    std::optional<Micros> keep = keep_for(policy, hour.stream);
    if (!keep || !deletable[i] || hour.start + kMicrosPerHour > now - *keep) continue;
    bool own = policy.keep_for_stream.count(hour.stream) > 0;
    remove(i, "older than --keep-hours " + (own ? hour.stream + "=" : "") + flag_hours(*keep));
  }

  // Deletes the oldest deletable hours among those `in` selects until their bytes are
  // within `limit`; says so when that cannot be done.
  auto trim_to = [&](std::int64_t limit, const std::string& what, const std::string& flag, auto in) {
    std::int64_t total = 0;
    for (std::size_t i = 0; i < hours.size(); ++i) {
      if (!gone[i] && in(hours[i])) total += hours[i].bytes;
    }
    std::string reason = what + " over " + flag;
    for (std::size_t i = 0; i < hours.size() && total > limit; ++i) {
      if (gone[i] || !deletable[i] || !in(hours[i])) continue;
      total -= hours[i].bytes;
      remove(i, reason);
    }
    if (total > limit) {
      plan.unmet.push_back(what + " is " + format_byte_size(total) + ", over " + flag +
                           ", and every hour left is held or current");
    }
  };
  for (const auto& stream_limit : policy.keep_bytes_stream) {
    const std::string& stream = stream_limit.first;
    trim_to(stream_limit.second, stream, "--keep-bytes " + stream + "=" + format_byte_size(stream_limit.second),
            [&stream](const ArchiveHour& h) { return h.stream == stream; });
  }
  if (policy.keep_bytes) {
    trim_to(*policy.keep_bytes, "the archive", "--keep-bytes " + format_byte_size(*policy.keep_bytes),
            [](const ArchiveHour&) { return true; });
  }
  std::stable_sort(plan.deletions.begin(), plan.deletions.end(),
                   [](const HourDeletion& a, const HourDeletion& b) { return a.hour.start < b.hour.start; });
  return plan;
}

Result<std::int64_t> parse_byte_size(std::string_view text) {
  std::string_view number = text;
  double unit = 1;
  if (!number.empty()) {
    switch (number.back()) {
      case 'K':
        unit = 1024.0;
        break;
      case 'M':
        unit = 1024.0 * 1024;
        break;
      case 'G':
        unit = 1024.0 * 1024 * 1024;
        break;
      case 'T':
        unit = 1024.0 * 1024 * 1024 * 1024;
        break;
      default:
        break;
    }
    if (unit != 1) number.remove_suffix(1);
  }
  bool digits = !number.empty() &&
                std::all_of(number.begin(), number.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) &&
                std::count(number.begin(), number.end(), '.') <= 1 && number.front() != '.' && number.back() != '.';
  if (!digits) {
    return make_error("'" + std::string(text) + "' is not a size (bytes, or a number with K, M, G or T: 500G)");
  }
  double value = std::stod(std::string(number)) * unit;
  if (value < 1 || value > 9.0e18) return make_error("'" + std::string(text) + "' is out of range (1 byte to 8E)");
  return std::int64_t(std::llround(value));
}

std::string format_byte_size(std::int64_t bytes) {
  static constexpr const char* kUnits[] = {"", "K", "M", "G", "T"};
  int unit = 0;
  while (unit < 4 && bytes != 0 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++unit;
  }
  return std::to_string(bytes) + kUnits[unit];
}

std::pair<std::string, std::string_view> split_stream_value(std::string_view text) {
  auto equals = text.find('=');
  if (equals == std::string_view::npos) return {"", text};
  return {std::string(text.substr(0, equals)), text.substr(equals + 1)};
}

Result<HeldRange> parse_keep_range(std::string_view text) {
  auto [stream, range] = split_stream_value(text);
  auto slash = range.find('/');
  if (slash == std::string_view::npos) {
    return make_error("'" + std::string(text) + "' is not [STREAM=]START/END (two times, e.g. " +
                      "2026-11-21T04:00:00Z/2026-11-21T06:00:00Z)");
  }
  auto start = parse_time(range.substr(0, slash));
  if (!start) return make_error("'" + std::string(text) + "': start: " + start.error().message);
  auto end = parse_time(range.substr(slash + 1));
  if (!end) return make_error("'" + std::string(text) + "': end: " + end.error().message);
  if (*end <= *start) return make_error("'" + std::string(text) + "': the end must be after the start");
  return HeldRange{stream, {*start, *end}};
}

}  // namespace wubd::core
