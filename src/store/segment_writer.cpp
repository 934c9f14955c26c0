#include "wubd/store/segment_writer.h"

#include <filesystem>

namespace wubd::store {

namespace {

core::SegmentName temp_segment(core::Micros start, core::Micros duration) {
  return {start, duration, core::SegmentType::Temp, random_temp_id()};
}

}  // namespace

std::string temp_segment_name(core::Micros start, core::Micros duration) {
  return core::format_segment_name(temp_segment(start, duration));
}

SegmentWriter::SegmentWriter(uv_loop_t* loop, const std::string& base_dir, const std::string& stream,
                             const std::string& variant, core::Micros start, core::Micros duration)
    : name_(temp_segment(start, duration)),
      file_(loop, base_dir, stream + "/" + variant + "/" + core::format_hour(start), core::format_segment_name(name_)) {
}

void SegmentWriter::commit(core::SegmentType type, FileWriter::Done done) {
  file_.finish(
      [this, type](const std::string& hash) -> core::Result<std::string> {
        name_.type = type;
        name_.hash = hash;
        return core::format_segment_name(name_);
      },
      std::move(done));
}

namespace {

// A `temp` segment, or a chat batch being written the way wubloader writes one
// (`NAME.<uuid>.temp`).
bool is_temp_name(const std::string& hour, const std::string& name) {
  if (name.size() > 42 && name.ends_with(".temp") && name[name.size() - 42] == '.') return true;
  if (name.find("-temp-") == std::string::npos) return false;
  auto parsed = core::parse_segment_path(hour, name);
  return parsed && parsed->type == core::SegmentType::Temp;
}

}  // namespace

std::vector<std::string> remove_stale_temp_files(const std::string& base_dir, core::Micros max_age,
                                                 const TempSweepScope& scope) {
  namespace fs = std::filesystem;
  std::vector<std::string> removed;
  std::error_code ec;
  auto now = fs::file_time_type::clock::now();
  auto age_of = [&](const fs::directory_entry& entry) {
    std::error_code time_ec;
    auto mtime = entry.last_write_time(time_ec);
    return time_ec ? std::int64_t(-1)
                   : std::int64_t(std::chrono::duration_cast<std::chrono::microseconds>(now - mtime).count());
  };
  for (auto it = fs::recursive_directory_iterator(base_dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() > 3) {
      it.disable_recursion_pending();
      continue;
    }
    if (it.depth() == 2 && scope.hours_modified_within > 0) {
      std::int64_t age = age_of(*it);
      if (age < 0 || age > scope.hours_modified_within) it.disable_recursion_pending();
      continue;
    }
    // symlink_status: a symlink is never followed, only a regular temp file removed.
    if (it.depth() != 3 || !fs::is_regular_file(it->symlink_status(ec))) continue;
    std::string name = it->path().filename().string();
    if (!is_temp_name(it->path().parent_path().filename().string(), name)) continue;
    std::string path = it->path().string();
    std::int64_t age = age_of(*it);
    if (age < 0 || age < max_age || scope.in_use.count(path)) continue;
    if (fs::remove(it->path(), ec)) removed.push_back(std::move(path));
  }
  return removed;
}

}  // namespace wubd::store
