#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "wubd/core/result.h"
#include "wubd/core/segment_name.h"
#include "wubd/core/time.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

// The archive's write side: a segment is written under a `temp` name in its hour
// directory while being hashed, then renamed to its final `full` or `partial` name.
// Readers (the restreamer, peers) ignore `temp` files, so they never see half a file.
namespace wubd::store {

// One segment being written. Not copyable; destroying an uncommitted writer removes
// its temp file. Writes go to the page cache with write(2): a few microseconds per
// chunk, so they stay on the loop (no fsync: a crash loses at most the newest files,
// which the backfiller heals). Bytes are gathered into kWriteBufferBytes before each
// write(2): curl hands over 16 KiB at a time, and a syscall per 16 KiB cost more CPU
// than the download itself.
class SegmentWriter {
 public:
  // Creates BASE/stream/variant/HOUR/ as needed and opens the temp file. Below BASE no
  // symlink is followed (io/beneath.h): a symlinked directory on the way is an error,
  // and the file is created and renamed relative to the hour directory's descriptor.
  static core::Result<std::unique_ptr<SegmentWriter>> create(const std::string& base_dir, const std::string& stream,
                                                             const std::string& variant, core::Micros start,
                                                             core::Micros duration);
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  core::Result<bool> write(std::string_view bytes);

  // Renames the temp file to its final name (type Full, Suspect or Partial, hash of
  // the bytes written) and returns the final path. A file of that name already there
  // is success: the same name means the same bytes.
  core::Result<std::string> commit(core::SegmentType type);
  // For copies of another node's file: renames the temp file to exactly `file_name`
  // (in the same hour directory) if the sha256 of the bytes written is
  // `expected_hash`; otherwise removes it and fails with code kHashMismatch and a
  // message giving both hashes. Keeping the peer's exact name matters: a name spelled
  // differently (`2.000` for `2.0`) would look missing on every later pass.
  static constexpr int kHashMismatch = 1;
  core::Result<std::string> commit_verified(const std::string& file_name, const std::string& expected_hash);
  // Removes the temp file.
  void discard();

  static constexpr std::size_t kWriteBufferBytes = 128 * 1024;

  std::uint64_t bytes_written() const { return bytes_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  SegmentWriter() = default;

  std::string directory_;  // the hour directory's path, for errors
  std::string temp_path_;
  std::string temp_name_;
  core::SegmentName name_;
  int dir_fd_ = -1;  // the hour directory: every create, rename and unlink is relative to it
  int fd_ = -1;
  evp_md_ctx_st* sha256_ = nullptr;
  std::uint64_t bytes_ = 0;
  std::string buffer_;  // bytes not yet written to fd_
  bool finished_ = false;

  core::Result<bool> flush();
  // Flushes, closes and finishes the hash; the url-safe base64 digest.
  core::Result<std::string> finish_hash();
  core::Result<std::string> rename_to(const std::string& final_name);
};

// Removes `temp` segment files under base_dir whose mtime is older than `max_age`:
// left behind by a process that died mid-download. Returns how many it removed.
// Walks the whole tree once: call it at start, before serving.
std::size_t remove_stale_temp_files(const std::string& base_dir, core::Micros max_age);

}  // namespace wubd::store
