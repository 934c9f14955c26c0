#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "wubd/io/child_process.h"
#include "wubd/io/http_response.h"
#include "cut_job.h"

// A full cut (type=mpegts or mp4), the seeds' original method: ffmpeg reads the
// segments from a pipe we feed and writes the clip to a pipe we relay to the client,
// with backpressure both ways. Errors before the first byte are a 500 with ffmpeg's
// reason; after it the response is aborted, so the client knows the file is broken.
// A client that leaves kills ffmpeg at once.
namespace wubd::restreamer {

class FullCut : public CutJob {
 public:
  // `on_finished` runs once, when the response is over (either way); the owner frees
  // the job later, never inside that call.
  FullCut(uv_loop_t* loop, std::vector<std::string> paths, std::vector<std::string> argv,
          std::string content_type, io::HttpResponse& response, std::function<void()> on_finished);
  ~FullCut() override;

  void start() override;

 private:
  void feed();
  void on_read(ssize_t result);
  void on_stdout(std::string_view bytes);
  void on_exit(std::int64_t status, int signal);
  void stop_feeding();

  uv_loop_t* loop_;
  std::vector<std::string> paths_;
  std::vector<std::string> argv_;
  std::string content_type_;
  io::HttpResponse* response_;  // null once the client is gone or the response ended
  std::unique_ptr<io::ChildProcess> child_;
  // Feeding: one file at a time, one threadpool read at a time.
  std::size_t next_path_ = 0;
  int fd_ = -1;
  std::int64_t offset_ = 0;
  std::string chunk_;
  bool reading_ = false;  // a threadpool read is in flight
  bool feeding_done_ = false;
};

}  // namespace wubd::restreamer
