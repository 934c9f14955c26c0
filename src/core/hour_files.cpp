#include "wubd/core/hour_files.h"

#include <algorithm>
#include <set>

namespace wubd::core {
namespace {

Error bad_batch(std::string_view name, std::string_view why) {
  return make_error("bad chat batch name \"" + std::string(name) + "\": " + std::string(why));
}

// Two decimal digits at `text[at]`, at most `max`; -1 if not.
int two_digits(std::string_view text, std::size_t at, int max) {
  if (at + 2 > text.size()) return -1;
  char a = text[at], b = text[at + 1];
  if (a < '0' || a > '9' || b < '0' || b > '9') return -1;
  int value = (a - '0') * 10 + (b - '0');
  return value <= max ? value : -1;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

Result<ChatBatchName> parse_chat_batch_name(Micros hour_start, std::string_view file_name) {
  constexpr std::string_view kSuffix = ".json";
  if (!ends_with(file_name, kSuffix)) return bad_batch(file_name, "does not end in .json");
  std::string_view stem = file_name.substr(0, file_name.size() - kSuffix.size());
  // MM:SS-HASH
  int minute = two_digits(stem, 0, 59);
  int second = two_digits(stem, 3, 59);
  if (minute < 0 || second < 0 || stem.size() < 6 || stem[2] != ':' || stem[5] != '-') {
    return bad_batch(file_name, "does not start with MM:SS-");
  }
  std::string_view hash = stem.substr(6);
  auto bytes = decode_hash(hash);
  if (!bytes) return bad_batch(file_name, bytes.error().message);
  if (bytes->size() != 32) return bad_batch(file_name, "hash is not a sha256");
  return ChatBatchName{hour_start + (minute * 60 + second) * kMicrosPerSecond, std::string(hash)};
}

bool is_tombstone_name(std::string_view file_name) {
  return file_name.size() > kTombstoneSuffix.size() && ends_with(file_name, kTombstoneSuffix);
}

std::string_view file_stem(std::string_view file_name) {
  // os.path.splitext: the last dot, unless the dots lead the name (".foo" has no extension).
  std::size_t dot = file_name.rfind('.');
  if (dot == std::string_view::npos || file_name.find_first_not_of('.') > dot) return file_name;
  return file_name.substr(0, dot);
}

std::string tombstone_name(std::string_view file_name) {
  return std::string(file_stem(file_name)) + std::string(kTombstoneSuffix);
}

HourFiles sort_hour_files(std::string_view hour, Micros hour_start, const std::vector<std::string>& file_names) {
  HourFiles files;
  files.segments.reserve(file_names.size());
  std::set<std::string_view> tombstoned;
  for (const std::string& name : file_names) {
    if (!is_tombstone_name(name)) continue;
    files.tombstones.push_back(name);
    tombstoned.insert(file_stem(name));
  }
  for (const std::string& name : file_names) {
    if (is_tombstone_name(name)) continue;
    // A chat batch or extra being written the way wubloader writes one: not there yet.
    if (ends_with(name, ".temp") && !ends_with(name, "-temp.ts")) continue;
    bool deleted = tombstoned.count(file_stem(name)) > 0;
    if (ends_with(name, ".json")) {
      auto batch = parse_chat_batch_name(hour_start, name);
      if (!batch) {
        files.rejected.emplace_back(name, batch.error().message);
      } else if (!deleted) {
        files.chat_batches.push_back(name);
      }
      continue;
    }
    auto segment = parse_segment_name(hour_start, name);
    if (!segment) {
      files.rejected.emplace_back(name, segment.error().message);
      continue;
    }
    if (deleted) continue;
    StoredSegment stored;
    stored.name = std::move(*segment);
    stored.hour = std::string(hour);
    stored.file_name = name;
    files.segments.push_back(std::move(stored));
  }
  std::sort(files.chat_batches.begin(), files.chat_batches.end());
  std::sort(files.tombstones.begin(), files.tombstones.end());
  return files;
}

}  // namespace wubd::core
