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

// A name the text of an hour's names can hold (join_names).
bool fits_names_text(std::string_view name) { return !name.empty() && name.find('\n') == std::string_view::npos; }

}  // namespace

Result<ChatBatchName> parse_chat_batch_name(Micros hour_start, std::string_view file_name) {
  constexpr std::string_view kSuffix = ".json";
  if (!file_name.ends_with(kSuffix)) return bad_batch(file_name, "does not end in .json");
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
  return file_name.size() > kTombstoneSuffix.size() && file_name.ends_with(kTombstoneSuffix);
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

std::string join_names(const std::vector<std::string>& sorted_names) {
  std::size_t size = 0;
  for (const std::string& name : sorted_names) size += name.size() + 1;
  std::string text;
  text.reserve(size);
  for (const std::string& name : sorted_names) {
    if (!fits_names_text(name)) continue;
    text += name;
    text += '\n';
  }
  return text;
}

std::vector<std::string_view> split_names(std::string_view names_text) {
  std::vector<std::string_view> names;
  names.reserve(count_names(names_text));
  while (!names_text.empty()) {
    std::size_t end = names_text.find('\n');
    if (end == std::string_view::npos) end = names_text.size();  // a last name without its '\n'
    names.push_back(names_text.substr(0, end));
    names_text.remove_prefix(std::min(end + 1, names_text.size()));
  }
  return names;
}

std::size_t count_names(std::string_view names_text) {
  std::size_t count = std::size_t(std::count(names_text.begin(), names_text.end(), '\n'));
  return count + (!names_text.empty() && names_text.back() != '\n');
}

std::string merge_names(std::string_view names_text, const std::map<std::string, bool>& changes) {
  std::string merged;
  merged.reserve(names_text.size() + 80 * changes.size());
  auto change = changes.begin();
  // Both sorted: one pass, each change put where its name sorts.
  auto put_changes_before = [&](std::string_view name, bool all) {
    for (; change != changes.end() && (all || change->first < name); ++change) {
      if (change->second && fits_names_text(change->first)) merged.append(change->first).push_back('\n');
    }
  };
  for (std::string_view name : split_names(names_text)) {
    put_changes_before(name, false);
    if (change != changes.end() && change->first == name) {
      if (change->second) merged.append(name).push_back('\n');
      ++change;
      continue;
    }
    merged.append(name).push_back('\n');
  }
  put_changes_before({}, true);
  return merged;
}

HourFile classify_hour_file(Micros hour_start, std::string_view name) {
  HourFile file;
  if (is_tombstone_name(name)) {
    file.kind = HourFileKind::Tombstone;
  } else if (name.ends_with(".temp") && !name.ends_with("-temp.ts")) {
    file.kind = HourFileKind::WritingTemp;
  } else if (name.ends_with(".json")) {
    auto batch = parse_chat_batch_name(hour_start, name);
    file.kind = batch ? HourFileKind::ChatBatch : HourFileKind::Bad;
    if (!batch) file.reason = batch.error().message;
  } else if (auto segment = parse_segment_name_view(hour_start, name)) {
    file.kind = HourFileKind::Segment;
    file.segment = *segment;
  } else {
    file.reason = segment.error().message;
  }
  return file;
}

HourFiles sort_hour_files(std::string_view hour, Micros hour_start, std::string_view names_text) {
  std::vector<std::string_view> file_names = split_names(names_text);
  HourFiles files;
  files.segments.reserve(file_names.size());
  std::set<std::string_view> tombstoned;
  for (std::string_view name : file_names) {
    if (!is_tombstone_name(name)) continue;
    files.tombstones.push_back(name);
    tombstoned.insert(file_stem(name));
  }
  for (std::string_view name : file_names) {
    HourFile file = classify_hour_file(hour_start, name);
    bool deleted = !tombstoned.empty() && tombstoned.count(file_stem(name)) > 0;
    switch (file.kind) {
      case HourFileKind::Tombstone:    // sorted out above
      case HourFileKind::WritingTemp:  // not there yet
        break;
      case HourFileKind::Bad:
        files.rejected.emplace_back(name, std::move(file.reason));
        break;
      case HourFileKind::ChatBatch:
        if (!deleted) files.chat_batches.push_back(name);
        break;
      case HourFileKind::Segment:
        if (!deleted) files.segments.push_back(StoredSegment{file.segment, hour, name, -1});
        break;
    }
  }
  std::sort(files.chat_batches.begin(), files.chat_batches.end());
  std::sort(files.tombstones.begin(), files.tombstones.end());
  return files;
}

std::shared_ptr<HourListing> make_hour_listing(std::string_view hour, Micros hour_start,
                                               std::shared_ptr<const std::string> names_text, const FileSize& size_of,
                                               std::vector<std::pair<std::string, std::string>>& rejected) {
  auto listing = std::make_shared<HourListing>();
  listing->hour = std::string(hour);
  listing->names_text = std::move(names_text);
  HourFiles files = sort_hour_files(listing->hour, hour_start, *listing->names_text);
  for (auto& [name, why] : files.rejected) rejected.emplace_back(std::string(name), std::move(why));
  listing->segments = std::move(files.segments);
  std::vector<bool> sized = needs_size(listing->segments);
  std::vector<bool> vanished(sized.size(), false);
  for (std::size_t i = 0; i < sized.size(); ++i) {
    if (!sized[i]) continue;
    listing->segments[i].size_bytes = size_of(listing->segments[i].file_name);
    vanished[i] = listing->segments[i].size_bytes < 0;  // removed since it was listed
  }
  std::size_t index = 0;
  std::erase_if(listing->segments, [&](const StoredSegment&) { return vanished[index++]; });
  listing->segments.shrink_to_fit();
  listing->chat_batches = std::move(files.chat_batches);
  listing->tombstones = std::move(files.tombstones);
  // best_by_start orders its own pointers by time.
  listing->best = best_by_start(listing->segments);
  return listing;
}

}  // namespace wubd::core
