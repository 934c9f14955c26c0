#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <uv.h>

#include "wubd/io/beneath.h"
#include "wubd/io/http_body.h"
#include "wubd/io/task_group.h"

// Sends a range of an open file into a response body as the client takes it, without
// ever waiting on the disk inside the loop: a chunk whose pages are all in the page
// cache (mincore on a read-only mapping says so) goes out with sendfile where the
// connection can take it at once (a sized body, nothing queued: no copy at all), and
// is otherwise written from the mapping (one copy into the socket instead of two);
// a chunk not in the page cache is read in the loop if part of it is there after all
// (preadv2 with RWF_NOWAIT), and in libuv's threadpool if it must come from disk.
// Used by the file bodies (a segment, a rough cut's files) and by the fast cut's
// middle segments.
namespace wubd::io {

class FileStreamer {
 public:
  explicit FileStreamer(uv_loop_t* loop) : reads_(loop) {}
  // A read in flight finishes on its own, holding the file open until it ends.
  ~FileStreamer();
  FileStreamer(const FileStreamer&) = delete;
  FileStreamer& operator=(const FileStreamer&) = delete;

  // Sends `length` bytes of `file` from `offset` into `out`, which must have begun.
  // `done(true)` runs once every byte is queued; `done(false)` if the file could not
  // be read or was shorter (logged with `display`). One range at a time; `done` may
  // start the next one.
  void stream(BodyWriter& out, std::shared_ptr<const OwnedFd> file, std::int64_t offset, std::int64_t length,
              std::string display, std::function<void(bool ok)> done);
  // `out` can take more: carry on (nothing happens if nothing waits).
  void resume();
  bool streaming() const { return out_ != nullptr; }

  // Bytes read per chunk when the mapping cannot be used.
  static constexpr std::size_t kChunkBytes = 256 * 1024;

 private:
  struct Mapping;
  void pump();
  bool write_mapped_chunk();
  void on_read(ssize_t result, std::string bytes);
  void finish(bool ok);

  TaskGroup reads_;
  BodyWriter* out_ = nullptr;  // while streaming
  std::shared_ptr<const OwnedFd> file_;
  std::int64_t offset_ = 0;
  std::int64_t remaining_ = 0;
  std::string display_;
  std::function<void(bool)> done_;
  bool read_in_flight_ = false;
  bool pumping_ = false;
  // The range mapped for writing cache-resident chunks; shared with the writes still
  // queued from it. Null when mapping failed.
  std::shared_ptr<const Mapping> mapping_;
  std::int64_t mapping_offset_ = 0;  // file offset of the mapping's first byte
};

}  // namespace wubd::io
