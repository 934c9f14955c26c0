#include "wubd/core/backfill_plan.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include <simdjson.h>

#include "wubd/core/hour_files.h"
#include "wubd/core/segment_name.h"

namespace wubd::core {

Result<std::vector<std::string>> parse_name_list(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(json.data(), json.size()).get(root)) {
    return make_error(std::string("not JSON: ") + simdjson::error_message(error));
  }
  simdjson::dom::array array;
  if (root.get_array().get(array)) return make_error("not a JSON array of strings");
  std::vector<std::string> names;
  names.reserve(array.size());
  for (simdjson::dom::element item : array) {
    std::string_view name;
    if (item.get_string().get(name)) return make_error("not a JSON array of strings: an item is not a string");
    names.emplace_back(name);
  }
  return names;
}

Result<PeerHours> parse_peer_hours(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(json.data(), json.size()).get(root)) {
    return make_error(std::string("not JSON: ") + simdjson::error_message(error));
  }
  PeerHours out;
  simdjson::dom::object object;
  if (root.get_object().get(object)) {
    auto names = parse_name_list(json);  // a wubloader node: the plain list
    if (!names) return make_error("neither an object of hour digests nor " + names.error().message);
    out.hours = std::move(*names);
    return out;
  }
  out.has_digests = true;
  for (auto field : object) {
    std::string hour(field.key);
    out.hours.push_back(hour);
    if (field.value.is_null()) {
      out.digests[hour] = std::nullopt;
      continue;
    }
    std::int64_t count = 0;
    std::string_view sha256;
    if (field.value["count"].get_int64().get(count) || field.value["sha256"].get_string().get(sha256) || count < 0 ||
        sha256.size() != 64) {
      return make_error("hour " + hour + ": not {\"count\": N, \"sha256\": \"64 hex digits\"} or null");
    }
    out.digests[hour] = HourDigest{count, std::string(sha256)};
  }
  return out;
}

std::vector<std::string> hours_union(const std::vector<std::vector<std::string>>& per_variant) {
  std::set<std::string> all;
  for (const auto& hours : per_variant) {
    for (const std::string& hour : hours) {
      if (parse_hour(hour)) all.insert(hour);
    }
  }
  return {all.begin(), all.end()};
}

Result<std::vector<std::string>> last_hours(int count, Micros now) {
  if (count < 1) return make_error("the number of last hours must be at least 1, not " + std::to_string(count));
  std::vector<std::string> hours;
  Micros hour = floor_hour(now);
  for (int i = count - 1; i >= 0; --i) hours.push_back(format_hour(hour - i * kMicrosPerHour));
  return hours;
}

std::vector<std::string> explicit_hours(const std::vector<std::string>& hours) {
  std::vector<std::string> copy = hours;
  std::sort(copy.begin(), copy.end());
  copy.erase(std::unique(copy.begin(), copy.end()), copy.end());
  return copy;
}

namespace {

// Whether a tombstone's stem names a segment or a chat batch: anything else is not
// one of wubloader's tombstones.
bool marks_a_file(std::string_view hour, std::string_view tombstone) {
  std::string stem(file_stem(tombstone));
  auto hour_start = parse_hour(hour);
  if (!hour_start) return false;
  return parse_segment_name(*hour_start, stem + ".ts") || parse_chat_batch_name(*hour_start, stem + ".json");
}

bool is_near_duplicate(const SegmentNameView& missing, const HourListing& local) {
  for (const StoredSegment& have : local.segments) {
    const SegmentNameView& h = have.name;
    if (h.type == missing.type && h.duration == missing.duration && h.hash == missing.hash &&
        std::abs(h.start - missing.start) <= kNearDuplicateTolerance) {
      return true;
    }
  }
  return false;
}

}  // namespace

FilesToCopy files_to_copy(std::string_view hour, const std::vector<std::string>& remote, const HourListing& local,
                          Micros now, Micros recent_cutoff) {
  FilesToCopy result;
  std::vector<std::string_view> listed = listed_names(local);
  std::set<std::string_view> have(listed.begin(), listed.end());
  have.insert(local.tombstones.begin(), local.tombstones.end());
  std::set<std::string_view> deleted;
  for (std::string_view tombstone : local.tombstones) deleted.insert(file_stem(tombstone));
  auto hour_start = parse_hour(hour);
  for (const std::string& name : remote) {
    if (have.count(name)) continue;
    if (!hour_start) {
      result.skipped.emplace_back(name, hour_start.error().message);
      continue;
    }
    HourFile file = classify_hour_file(*hour_start, name);
    if (file.kind == HourFileKind::Tombstone) {
      if (marks_a_file(hour, name)) {
        result.tombstones.push_back(name);
      } else {
        result.skipped.emplace_back(name, "not a tombstone of a segment or chat batch");
      }
      continue;
    }
    if (deleted.count(file_stem(name))) {
      ++result.deleted_here;
      continue;
    }
    switch (file.kind) {
      case HourFileKind::Tombstone:  // above
        break;
      case HourFileKind::Bad:
        result.skipped.emplace_back(name, std::move(file.reason));
        break;
      case HourFileKind::WritingTemp:
        result.skipped.emplace_back(name, "temp file");
        break;
      case HourFileKind::ChatBatch:
        result.fetch.push_back(name);
        break;
      case HourFileKind::Segment:
        if (file.segment.type == SegmentType::Temp) {
          result.skipped.emplace_back(name, "temp file");
        } else if (now - file.segment.start < recent_cutoff) {
          ++result.too_recent;
        } else if (is_near_duplicate(file.segment, local)) {
          ++result.near_duplicates;
        } else {
          result.fetch.push_back(name);
        }
        break;
    }
  }
  std::sort(result.fetch.begin(), result.fetch.end());
  std::sort(result.tombstones.begin(), result.tombstones.end());
  return result;
}

Result<FillOrder> parse_fill_order(std::string_view text) {
  if (text == "random") return FillOrder::Random;
  if (text == "forward") return FillOrder::Forward;
  if (text == "reverse") return FillOrder::Reverse;
  return make_error("order must be random, forward or reverse, not \"" + std::string(text) + "\"");
}

void order_downloads(std::vector<std::pair<std::string, std::string>>& downloads, FillOrder order,
                     std::mt19937_64& random) {
  // Hour names and segment names both sort in time order.
  std::sort(downloads.begin(), downloads.end());
  if (order == FillOrder::Reverse) std::reverse(downloads.begin(), downloads.end());
  if (order == FillOrder::Random) std::shuffle(downloads.begin(), downloads.end(), random);
}

PassDecision next_pass(const PassSchedule& schedule, Micros now, Micros fill_wait, Micros full_fill_wait) {
  if (!schedule.last_recent) return {PassKind::Recent, 0};
  if (!schedule.last_full) return {PassKind::Full, 0};
  Micros full_due = *schedule.last_full + full_fill_wait;
  Micros recent_due = *schedule.last_recent + fill_wait;
  if (now >= full_due) return {PassKind::Full, 0};
  if (now >= recent_due) return {PassKind::Recent, 0};
  return {PassKind::None, std::min(full_due, recent_due) - now};
}

}  // namespace wubd::core
