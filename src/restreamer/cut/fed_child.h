#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "wubd/core/result.h"
#include "wubd/core/ts_retimer.h"
#include "wubd/io/beneath.h"
#include "wubd/io/child_process.h"
#include "wubd/io/task_group.h"

// ffmpeg reading segment files from pipes we feed: input 0 is its stdin, input k its
// pipe:(k + 2). Each input's files go one after another, one threadpool read at a
// time, while the child's pipe holds less than a megabyte (backpressure). What ffmpeg
// writes arrives through callbacks; stdout can be paused. Used by every cut that runs
// ffmpeg on whole runs of segments (full cuts, transitions) and by /generate_videos.
//
// Owned by one body; it may be destroyed at any time except inside one of its
// callbacks (lifetime.h rule 3: defer_delete it there). Reads in flight belong to the
// owner's TaskGroup and hold their files open until they end.
namespace wubd::restreamer {

class FedChild {
 public:
  struct Callbacks {
    std::function<void(std::string_view bytes)> on_stdout;
    std::function<void(std::string_view bytes)> on_stderr;
    // Once, after the child exited and its output reached EOF. `feed_error` says why
    // feeding failed (the child was killed for it), or is empty.
    std::function<void(std::int64_t status, int signal, const std::string& feed_error)> on_exit;
  };

  // `fmp4`: the files are fragmented MP4; each is remuxed to MPEG-TS (in the
  // threadpool) and fed with its timestamps joined onto the one before
  // (core::TsRetimer), so ffmpeg reads one continuous MPEG-TS per input.
  FedChild(uv_loop_t* loop, io::TaskGroup& tasks, std::vector<std::vector<io::BeneathPath>> inputs, bool fmp4);

  // Starts ffmpeg with `argv` and begins feeding; `passed_fds` as ChildProcess::spawn.
  // An error says what could not be started; no callback runs then.
  core::Result<bool> start(const std::vector<std::string>& argv, Callbacks callbacks,
                           const std::vector<int>& passed_fds = {});

  void pause_output();
  void resume_output();
  // Stops feeding and kills ffmpeg; on_exit still follows.
  void kill();
  int pid() const;

 private:
  // One input's feeding: one file at a time, one threadpool read at a time.
  struct Feed {
    std::vector<io::BeneathPath> paths;
    std::size_t next_path = 0;
    std::shared_ptr<const io::OwnedFd> file;  // the file being fed
    std::int64_t offset = 0;
    bool reading = false;  // a threadpool read (or remux) is in flight
    bool done = false;
    core::TsRetimer retimer;  // fMP4: joins the remuxed files' timestamps
  };

  void feed(std::size_t input);
  void feed_remuxed(std::size_t input);
  void on_read(std::size_t input, ssize_t result, std::string bytes);
  // Stops feeding after a failure; ffmpeg is killed and its exit says why.
  void abort_feeding(const std::string& why);
  void stop_feeding(Feed& feed);
  void stop_all_feeding();

  uv_loop_t* loop_;
  io::TaskGroup& tasks_;
  bool fmp4_;
  std::vector<Feed> feeds_;
  std::unique_ptr<io::ChildProcess> child_;
  std::string feed_error_;
};

}  // namespace wubd::restreamer
