#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <uv.h>

#include "wubd/core/result.h"
#include "wubd/io/task_group.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

// Writing one file of the archive atomically, off the loop: the bytes go to a temp
// name in the file's directory while being hashed (sha256), then the temp file is
// renamed to its final name, so readers never see half a file. Segments
// (segment_writer.h), chat batches and extras copied from peers are all written so.
namespace wubd::store {

// The file work runs in libuv's threadpool, one drain at a time per writer: create
// the directory and the temp file, write what has gathered, and at the end close and
// rename (the loop hashes the bytes as they come). A disk the kernel throttles (or one that is
// dying) makes open, write and rename wait for seconds; on the loop that wait would
// stall every client, so the loop only gathers bytes and learns how the writing went.
// Bytes are gathered into kWriteBufferBytes before a drain takes them: curl hands over
// 16 KiB at a time, and a write per 16 KiB costs more than the download. While a drain
// writes, the bytes gather on, so a slow disk gets fewer, larger writes. No fsync: a crash
// loses at most the newest files, which the backfiller heals.
//
// Not copyable. Destroying a writer that was not committed removes its temp file (in
// the threadpool, after any write still running); destroying one whose finish was asked
// for lets the finish happen, unseen.
class FileWriter {
 public:
  // Returns at once; BASE/`directory` (created as needed) and `temp_name` in it are
  // made in the threadpool at once. Below BASE no symlink is followed (io/beneath.h): a
  // symlinked directory on the way is an error, and the file is created and renamed
  // relative to the directory's descriptor.
  FileWriter(uv_loop_t* loop, const std::string& base_dir, const std::string& directory, std::string temp_name);
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  // Queues `bytes`. Fails once the file work has failed (the file could not be created or
  // written: later calls fail alike, since the hash counts bytes the file lacks), after
  // the end, or when more than kMaxQueuedBytes wait on a disk that does not keep up.
  core::Result<bool> write(std::string_view bytes);

  // The path of the file, or why there is none. Runs on the loop when the file work is
  // over, unless the writer was destroyed first.
  using Done = std::function<void(core::Result<std::string> path)>;
  // Gives the final name for the sha256 (url-safe base64) of the bytes, or an error
  // (then the temp file is removed). Called at once, by finish().
  using NameForHash = std::function<core::Result<std::string>(const std::string& hash)>;

  // Ends the chain: the rest written, the file closed, and the temp file renamed to
  // name_for(hash) in the same directory. A file of that name already there is
  // success: names in the archive are content.
  void finish(const NameForHash& name_for, Done done);
  // finish() to `final_name`.
  void commit(const std::string& final_name, Done done);
  // finish() to `final_name` if the hash is `expected_hash`; otherwise the temp file is
  // removed and `done` gets code kHashMismatch and both hashes.
  static constexpr int kHashMismatch = 1;
  void commit_verified(const std::string& final_name, const std::string& expected_hash, Done done);
  // Ends the chain by removing the temp file.
  void discard();

  static constexpr std::size_t kWriteBufferBytes = 128 * 1024;
  // Bytes waiting for the disk beyond which write() fails: a disk this far behind is
  // not going to catch up, and the download would otherwise hold them all in memory.
  static constexpr std::size_t kMaxQueuedBytes = 64 << 20;

  // True while all writers together hold more than kMaxWaitingBytes for the disk:
  // downloads pause (io::FetchRequest::must_wait) until the drains catch up, so that a
  // burst from a fast network, or a disk that stalls, is held back by TCP instead of
  // piling up in memory. On the loop the bytes were once written as they came, which
  // held the network back by itself.
  static bool disk_is_behind();
  static constexpr std::size_t kMaxWaitingBytes = 8 << 20;

  // Temp paths of every writer not yet renamed or removed, for the temp sweeper.
  // Writers live on the loop thread; a sweep in the threadpool gets a copy.
  static const std::set<std::string>& being_written();

  std::uint64_t bytes_written() const { return bytes_; }
  const std::string& temp_path() const { return temp_path_; }
  // A drain is queued or running (for tests).
  bool busy() const;

 private:
  struct Disk;
  // Renamed to `final_name`, or removed if there is an `error` (what `done` gets).
  void end(std::string final_name, std::optional<core::Error> error);
  void start_drain();
  void on_drained();
  void forget_temp_path();

  std::shared_ptr<Disk> disk_;  // the file's side, shared with the drain in the threadpool
  io::TaskGroup drains_;
  evp_md_ctx_st* sha256_;  // of the bytes handed over
  std::string temp_path_;
  std::uint64_t bytes_ = 0;
  Done done_;
  std::optional<core::Error> failed_;  // a write failed: every later write fails
  bool ended_ = false;                 // finish() or discard() was called
  bool listed_ = true;                 // in being_written()
};

// A random id for temp names, uuid-shaped like wubloader's.
std::string random_temp_id();

// Creates the empty file BASE/`directory`/`name` (a tombstone), with the directories
// on the way; an existing one is success. Same symlink rule as FileWriter. Blocking:
// run it in the threadpool.
core::Result<bool> create_empty_file(const std::string& base_dir, const std::string& directory,
                                     const std::string& name);

}  // namespace wubd::store
