#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wubd/core/result.h"
#include "wubd/io/beneath.h"

// Re-encodes a run of video frames out of segment files with libavcodec, for the
// smart cut's ends: decodes the files in order, skips to the frame at `first_pts`,
// and encodes `frames` frames from there with the source's codec (the default
// encoder for it: libx264 for H.264), no B-frames and one keyframe at the start.
//
// In-process rather than an ffmpeg child: a child costs ~80 ms to start and probe
// before its first frame, and its output only arrives whole, which put the smart
// cut's first byte past 200 ms. Here the run is encoded a few frames per call, and
// the first frames go out while the rest are encoded.
//
// Calls block (file reads, decoding, encoding): the loop runs them through an
// io::TaskGroup, one call at a time. The encoder runs single-threaded: no threads of its own.
namespace wubd::media {

struct EncodedFrame {
  std::string data;      // Annex B, with the parameter sets before the keyframe
  std::int64_t pts = 0;  // the source frame's, 90 kHz ticks in its first file's timeline
  bool key = false;
};

class RunEncoder {
 public:
  // `frame_ticks`: the source's frame duration, for the encoder's rate control.
  RunEncoder(std::vector<io::BeneathPath> paths, std::int64_t first_pts, int frames, std::int64_t frame_ticks);
  ~RunEncoder();
  RunEncoder(const RunEncoder&) = delete;
  RunEncoder& operator=(const RunEncoder&) = delete;

  // Encodes up to `batch` more source frames, stopping early (after at least one)
  // once `budget` has passed, so a threadpool thread is never held long whatever the
  // resolution; appends the packets the encoder has ready to `out` (it may hold a few
  // back until the end).
  core::Result<bool> encode_more(int batch, std::chrono::microseconds budget, std::vector<EncodedFrame>& out);

  // Every frame encoded and every packet handed out.
  bool done() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace wubd::media
