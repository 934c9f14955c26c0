#pragma once

#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "cut_body.h"
#include "wubd/core/cut_plan.h"
#include "wubd/core/ts_retimer.h"
#include "wubd/io/child_process.h"

// A full cut (type=mpegts or mp4), wubloader's original method: ffmpeg reads the
// segments from pipes we feed (one per continuous run: its stdin, then pipe:3,
// pipe:4, …) and writes the clip to a pipe we relay to the client, with backpressure
// both ways. Errors before the first byte are a 500 with ffmpeg's reason; after it
// the body is broken off, so the client knows the file is broken. A client that
// leaves kills ffmpeg at once.
namespace wubd::restreamer {

class FullCut final : public CutBody {
 public:
  // Per input: the segment files to feed ffmpeg, in order, and what it keeps of them.
  // `fmp4`: the files are fragmented MP4; each is remuxed to MPEG-TS (in the
  // threadpool) and fed with its timestamps joined onto the one before
  // (core::TsRetimer), so ffmpeg reads one continuous MPEG-TS per input.
  FullCut(uv_loop_t* loop, CutSlots::Slot slot, core::CutType type, std::vector<std::vector<io::BeneathPath>> inputs,
          std::vector<core::FullCutInput> ranges, bool fmp4);

  void resume() override;

 private:
  // One input's feeding: one file at a time, one threadpool read at a time. A read in
  // flight holds the file open (TaskGroup::read) whatever happens to the cut.
  struct Feed {
    std::vector<io::BeneathPath> paths;
    std::size_t next_path = 0;
    std::shared_ptr<const io::OwnedFd> file;  // the file being fed
    std::int64_t offset = 0;
    bool reading = false;  // a threadpool read (or remux) is in flight
    bool done = false;
    core::TsRetimer retimer;  // fMP4: joins the remuxed files' timestamps
  };

  void run() override;
  std::string on_stop() override;
  void spawn_ffmpeg(const std::vector<std::string>& argv);
  void feed(std::size_t input);
  // fMP4: remuxes the next file of an input and feeds it.
  void feed_remuxed(std::size_t input);
  void on_read(std::size_t input, ssize_t result, std::string bytes);
  void on_stdout(std::string_view bytes);
  void on_exit(std::int64_t status, int signal);
  // Stops feeding after a failure; ffmpeg is killed and its exit fails the cut.
  void abort_feeding(const std::string& why);
  void stop_feeding(Feed& feed);
  void stop_all_feeding();

  core::CutType type_;
  bool fmp4_;
  std::vector<Feed> feeds_;
  std::vector<core::FullCutInput> ranges_;
  std::unique_ptr<io::ChildProcess> child_;
};

}  // namespace wubd::restreamer
