#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>
#include <uv.h>

#include "wubd/core/best_segments.h"
#include "wubd/core/cut_plan.h"
#include "wubd/io/beneath.h"
#include "wubd/io/http_body.h"
#include "wubd/io/task_group.h"
#include "wubd/restreamer/cut_slots.h"

// What every cut that encodes (fast, smart, mpegts, mp4) is: a response body
// (io::HttpBody) the connection owns, which runs ffmpeg children or the in-process
// encoder and frees them with itself. The base keeps what they do alike: ffmpeg's
// stderr (logged, its tail kept for errors), the failure rule (500 before the first
// byte, the body broken off after), its count among the cuts running, and the
// threadpool work it started (dropped with it).
namespace wubd::restreamer {

// One range of a cut as files: its pieces (plan_cut's, each keeping its segment and
// that segment's hour listing alive) and each piece's path.
struct CutRangeFiles {
  std::vector<core::CutPiece> pieces;
  std::vector<io::BeneathPath> paths;
  core::CutRange range;
};

class CutBody : public io::HttpBody {
 public:
  void start(io::BodyWriter& out) final;
  void stop() override;
  // A client that shuts down its side is gone: nobody should wait for the clip.
  bool stop_on_client_eof() const final { return true; }

 protected:
  CutBody(uv_loop_t* loop, CutSlots::Slot slot, std::string_view content_type, std::string_view kind);

  // Starts the cut's work; `out_` is set.
  virtual void run() = 0;
  // The client left: stop the work (kill children) and say what was stopped, for the
  // log. The body is freed later, never inside this call.
  virtual std::string on_stop() { return "stopping the " + kind_; }

  // Logs a piece of ffmpeg's stderr to the `cut` logger and keeps its last 2 KB.
  void note_stderr(std::string_view bytes);
  // "ffmpeg exited 1 (signal 9): <the stderr tail>".
  std::string exit_reason(std::int64_t status, int signal) const;
  // Sends clip bytes, beginning the streamed 200 response first if needed.
  void send(std::string bytes);
  // The clip is complete.
  void finish();
  // The cut failed: a 500 with `reason` if nothing was sent yet, else the body is
  // broken off, so the client knows the file is broken.
  void fail(const std::string& reason);
  // False once the response is over (finished, failed, or the client gone): stop.
  bool active() const { return out_ && !out_->finished(); }
  bool writable() const { return active() && out_->writable(); }

  // The `cut` logger.
  static spdlog::logger& log();

  uv_loop_t* loop_;
  io::BodyWriter* out_ = nullptr;
  io::TaskGroup tasks_;  // threadpool work of this cut: its results die with it
  std::string stderr_tail_;
  static constexpr std::size_t kReadChunk = 256 * 1024;

  std::string kind_;  // "fast cut", for log lines and errors

 private:
  CutSlots::Slot slot_;
  std::string content_type_;
};

}  // namespace wubd::restreamer
