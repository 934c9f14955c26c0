#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "cut_body.h"
#include "fed_child.h"
#include "wubd/core/cut_plan.h"
#include "wubd/core/transitions.h"

// A full cut (type=mpegts, mp4 or webm), wubloader's original method: ffmpeg reads the
// segments from pipes we feed (one per continuous run, FedChild) and writes the clip
// to a pipe we relay to the client, with backpressure both ways; transitions between
// ranges are ffmpeg's xfade and acrossfade in the same graph. Errors before the first
// byte are a 500 with ffmpeg's reason; after it the body is broken off, so the client
// knows the file is broken. A client that leaves kills ffmpeg at once.
namespace wubd::restreamer {

class FullCut final : public CutBody {
 public:
  // Per input: the segment files to feed ffmpeg, in order, and what it keeps of them;
  // `joins[i]` joins input i to input i + 1 (nullopt: back to back). `fmp4`: the files
  // are fragmented MP4 (FedChild remuxes them).
  FullCut(uv_loop_t* loop, CutSlots::Slot slot, core::CutType type, std::vector<std::vector<io::BeneathPath>> inputs,
          std::vector<core::FullCutInput> ranges, std::vector<std::optional<core::Transition>> joins, bool fmp4);

  void resume() override;

 private:
  void run() override;
  std::string on_stop() override;
  void spawn_ffmpeg(const std::vector<std::string>& argv);

  core::CutType type_;
  std::vector<core::FullCutInput> ranges_;
  std::vector<std::optional<core::Transition>> joins_;
  io::BeneathPath first_path_;  // probed for its streams when ranges are joined
  FedChild child_;
};

}  // namespace wubd::restreamer
