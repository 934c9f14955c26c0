#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>
#include <uv.h>

#include "wubd/core/best_segments.h"
#include "wubd/core/cut_plan.h"
#include "wubd/io/http_response.h"

// A cut running ffmpeg children; the restreamer owns it until finished() and then
// frees it from a timer, never inside one of its callbacks. The base keeps what every
// such cut does alike: ffmpeg's stderr (logged, its tail kept for errors), the
// failure rule (500 before the first byte, abort after) and the one finished call.
namespace wubd::restreamer {

// One range of a cut as files: its pieces (plan_cut's), each piece's path, and (for
// a smart cut, which reads their times) copies of their segments, since the store's
// own live only until its next call.
struct CutRangeFiles {
  std::vector<core::StoredSegment> segments;
  std::vector<core::CutPiece> pieces;
  std::vector<io::BeneathPath> paths;
  core::CutRange range;
};

class CutJob {
 public:
  virtual ~CutJob() = default;
  virtual void start() = 0;
  bool finished() const { return finished_; }

 protected:
  explicit CutJob(std::function<void()> on_finished) : on_finished_(std::move(on_finished)) {}

  // Logs a piece of ffmpeg's stderr to the `cut` logger and keeps its last 2 KB.
  void note_stderr(std::string_view bytes);
  // "ffmpeg exited 1 (signal 9): <the stderr tail>".
  std::string exit_reason(std::int64_t status, int signal) const;
  // Ends `response` after a failure and forgets it: a 500 with `reason` if nothing
  // was sent yet, else an abort, so the client knows the file is broken.
  static void fail_response(io::HttpResponse*& response, const std::string& reason);
  // Calls on_finished once.
  void finish();

  // Sends `bytes` of the clip, starting the streamed 200 response first if needed.
  static void send_bytes(io::HttpResponse& response, std::string_view content_type, std::string bytes);

  // Reads up to kReadChunk bytes of `file` at `offset` in libuv's threadpool; `done`
  // gets the result (bytes read, 0 at EOF, or a uv error) and the bytes, on the loop.
  // It never runs once the job is gone (the read itself outlives the job, and keeps
  // `file` open until it ends). Returns 0 or uv_fs_read's error, in which case `done`
  // never runs.
  static constexpr std::size_t kReadChunk = 256 * 1024;
  int read_chunk(uv_loop_t* loop, std::shared_ptr<io::OwnedFd> file, std::int64_t offset,
                 std::function<void(ssize_t, std::string)> done);

  // Expires when the job is destroyed: for work that outlives it (probes, reads).
  std::weak_ptr<bool> alive_token() const { return alive_; }

  // The `cut` logger.
  static const std::shared_ptr<spdlog::logger>& log();

  std::string stderr_tail_;

 private:
  std::function<void()> on_finished_;
  bool finished_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace wubd::restreamer
