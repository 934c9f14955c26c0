#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "wubd/core/result.h"
#include "wubd/core/segment_name.h"
#include "wubd/core/time.h"
#include "wubd/store/file_writer.h"

// The archive's write side for segments: a segment is written under a `temp` name in
// its hour directory while being hashed, then renamed to its final `full` or
// `partial` name. Readers (the restreamer, peers) ignore `temp` files, so they never
// see half a file.
namespace wubd::store {

// One segment being written (a FileWriter with a segment's names), off the loop as
// FileWriter is. Destroying an uncommitted writer removes its temp file.
class SegmentWriter {
 public:
  // Returns at once; BASE/stream/variant/HOUR/ and the temp file are made in the
  // threadpool (see FileWriter for the symlink rule).
  SegmentWriter(uv_loop_t* loop, const std::string& base_dir, const std::string& stream, const std::string& variant,
                core::Micros start, core::Micros duration);

  core::Result<bool> write(std::string_view bytes) { return file_.write(bytes); }

  // Renames the temp file to its final name (type Full, Suspect or Partial, hash of
  // the bytes written); `done` gets the final path. A file of that name already there
  // is success: the same name means the same bytes.
  void commit(core::SegmentType type, FileWriter::Done done);
  // For copies of another node's file: renames the temp file to exactly `file_name`
  // (in the same hour directory) if the sha256 of the bytes written is
  // `expected_hash`; otherwise removes it and fails with code kHashMismatch and a
  // message giving both hashes. Keeping the peer's exact name matters: a name spelled
  // differently (`2.000` for `2.0`) would look missing on every later pass.
  static constexpr int kHashMismatch = FileWriter::kHashMismatch;
  void commit_verified(const std::string& file_name, const std::string& expected_hash, FileWriter::Done done) {
    file_.commit_verified(file_name, expected_hash, std::move(done));
  }
  // Removes the temp file.
  void discard() { file_.discard(); }

  static constexpr std::size_t kWriteBufferBytes = FileWriter::kWriteBufferBytes;

  std::uint64_t bytes_written() const { return file_.bytes_written(); }
  const std::string& temp_path() const { return file_.temp_path(); }
  bool busy() const { return file_.busy(); }

 private:
  core::SegmentName name_;
  FileWriter file_;
};

// A fresh `temp` name for a segment starting at `start` (random id in place of the hash).
std::string temp_segment_name(core::Micros start, core::Micros duration);

// Which temp files a sweep may remove, beyond being older than its max age.
struct TempSweepScope {
  // Only hour directories modified (a file created, renamed or removed in them) within
  // this long; 0 walks every hour. A running node's stale temps sit in hours it wrote
  // lately, so its periodic sweep need not read thirty days of directories.
  core::Micros hours_modified_within = 0;
  // Paths of temp files this process is writing (FileWriter::being_written()): never
  // removed, however long a stalled download has left them untouched.
  std::set<std::string> in_use;
};

// Removes temp files under base_dir whose mtime is older than `max_age`, left behind
// by a process that died mid-write: `temp` segments and wubloader-style
// `NAME.<uuid>.temp` files in hour directories. Returns the paths removed. Blocking
// (it reads directories): at start, or in the threadpool (TempSweeper).
std::vector<std::string> remove_stale_temp_files(const std::string& base_dir, core::Micros max_age,
                                                 const TempSweepScope& scope = {});

}  // namespace wubd::store
