#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "wubd/core/result.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

// Writing one file of the archive atomically: the bytes go to a temp name in the
// file's directory while being hashed (sha256), then the temp file is renamed to its
// final name, so readers never see half a file. Segments (segment_writer.h), chat
// batches and extras copied from peers are all written so.
namespace wubd::store {

// Not copyable; destroying an unfinished writer removes its temp file. Writes go to
// the page cache with write(2): a few microseconds per chunk, so they stay on the loop
// (no fsync: a crash loses at most the newest files, which the backfiller heals).
// Bytes are gathered into kWriteBufferBytes before each write(2): curl hands over
// 16 KiB at a time, and a syscall per 16 KiB cost more CPU than the download itself.
class FileWriter {
 public:
  // Creates BASE/`directory` as needed and opens `temp_name` in it. Below BASE no
  // symlink is followed (io/beneath.h): a symlinked directory on the way is an error,
  // and the file is created and renamed relative to the directory's descriptor.
  static core::Result<std::unique_ptr<FileWriter>> create(const std::string& base_dir, const std::string& directory,
                                                          std::string temp_name);
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  core::Result<bool> write(std::string_view bytes);

  // Flushes and closes the temp file; the url-safe base64 sha256 of what was written.
  // Then exactly one of rename_to() or discard() (or destruction).
  core::Result<std::string> finish();
  // Renames the temp file to `final_name` in the same directory; returns its path. A
  // file of that name already there is success: names in the archive are content.
  core::Result<std::string> rename_to(const std::string& final_name);
  // finish(), then rename_to(`final_name`).
  core::Result<std::string> commit(const std::string& final_name);
  // finish(), then rename_to(`final_name`) if the hash is `expected_hash`; otherwise
  // removes the temp file and fails with code kHashMismatch and both hashes.
  static constexpr int kHashMismatch = 1;
  core::Result<std::string> commit_verified(const std::string& final_name, const std::string& expected_hash);
  // Removes the temp file.
  void discard();

  static constexpr std::size_t kWriteBufferBytes = 128 * 1024;

  // Temp paths of every writer not yet renamed or removed, for the temp sweeper.
  // Writers live on the loop thread; a sweep in the threadpool gets a copy.
  static const std::set<std::string>& being_written();

  std::uint64_t bytes_written() const { return bytes_; }
  const std::string& temp_path() const { return temp_path_; }
  const std::string& directory() const { return directory_; }

 private:
  FileWriter() = default;
  core::Result<bool> flush();
  void mark_done();

  std::string directory_;  // BASE/directory, for errors
  std::string temp_name_;
  std::string temp_path_;
  int dir_fd_ = -1;  // every create, rename and unlink is relative to it
  int fd_ = -1;
  evp_md_ctx_st* sha256_ = nullptr;
  std::uint64_t bytes_ = 0;
  std::string buffer_;                 // bytes not yet written to fd_
  std::optional<core::Error> failed_;  // a write failed: every later call fails so
  bool closed_ = false;                // finish() ran
  bool done_ = false;                  // renamed or removed
};

// A random id for temp names, uuid-shaped like wubloader's.
std::string random_temp_id();

// Creates the empty file BASE/`directory`/`name` (a tombstone), with the directories
// on the way; an existing one is success. Same symlink rule as FileWriter.
core::Result<bool> create_empty_file(const std::string& base_dir, const std::string& directory,
                                     const std::string& name);

}  // namespace wubd::store
