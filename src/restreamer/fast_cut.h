#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "wubd/core/time.h"
#include "wubd/io/child_process.h"
#include "wubd/io/http_response.h"
#include "cut_job.h"

// type=fast (the seeds' "experimental" cut): the first and last segments trimmed by
// ffmpeg with the source's codecs (probed with libavformat; ffmpeg reads the segment
// from a pipe we feed), the middle ones copied
// as bytes (HttpResponse::write_file: from the page cache), all in order into one
// streamed response. Failure rules as FullCut.
namespace wubd::restreamer {

struct FastCutStep {
  io::BeneathPath path;
  std::optional<core::Micros> trim_start;  // offsets into the segment
  std::optional<core::Micros> trim_end;
};

class FastCut : public CutJob {
 public:
  // `on_finished` runs once when the response is over; free the job later.
  FastCut(uv_loop_t* loop, std::vector<FastCutStep> steps, io::HttpResponse& response,
          std::function<void()> on_finished);
  ~FastCut() override;

  void start() override;

 private:
  void next_step();
  // Feeds the trimming child the segment, a chunk at a time (one segment: a few MB).
  void feed_child();
  void relay(std::string_view bytes);
  void fail(const std::string& reason);

  uv_loop_t* loop_;
  std::vector<FastCutStep> steps_;
  io::HttpResponse* response_;
  std::vector<std::string> codecs_;
  std::size_t step_ = 0;
  std::unique_ptr<io::ChildProcess> child_;
  std::shared_ptr<io::OwnedFd> feed_;  // the segment the child is trimming, while it is fed
  std::int64_t feed_offset_ = 0;
  std::vector<std::unique_ptr<io::ChildProcess>> retired_children_;
};

}  // namespace wubd::restreamer
