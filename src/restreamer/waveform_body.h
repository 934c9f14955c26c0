#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "wubd/core/waveform.h"
#include "wubd/io/http_body.h"
#include "wubd/io/task_group.h"
#include "wubd/media/audio_envelope.h"

// /waveform's response: the range's segments split into a few runs, each run's audio
// read and decoded in its own threadpool call (in parallel: one waveform of hours
// reads gigabytes), their envelopes merged on the loop, then the picture drawn and
// encoded as a PNG in one more call. Holds a cut slot while any of that runs (the
// slot goes with the work, so a client that leaves frees it only once the work is
// over). Failure: 500 naming what could not be read.
namespace wubd::restreamer {

class WaveformBody final : public io::HttpBody {
 public:
  struct Plan {
    std::vector<std::vector<media::AudioSegment>> runs;  // read in parallel
    core::Micros start = 0;
    core::Micros end = 0;
    int width = 1024;
    int height = 64;
    int stride = 1;  // media::add_audio_envelope's
  };
  // `done` gets the PNG on the loop (to cache it) before it is sent.
  WaveformBody(uv_loop_t* loop, Plan plan, std::shared_ptr<void> slot,
               std::function<void(std::shared_ptr<const std::string>)> done);

  void start(io::BodyWriter& out) override;

 private:
  void on_run_read(core::Result<core::Envelope> envelope);
  void draw();

  io::TaskGroup tasks_;
  Plan plan_;
  std::shared_ptr<void> slot_;
  std::function<void(std::shared_ptr<const std::string>)> done_;
  io::BodyWriter* out_ = nullptr;
  core::Envelope envelope_;
  std::size_t runs_left_ = 0;
  bool failed_ = false;
};

}  // namespace wubd::restreamer
