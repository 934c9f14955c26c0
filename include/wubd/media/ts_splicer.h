#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wubd/core/result.h"
#include "wubd/core/time.h"
#include "wubd/io/beneath.h"
#include "wubd/media/run_encoder.h"

// type=smart's muxer: one MPEG-TS made with libavformat from packets copied out of
// segment files and from runs of re-encoded video, so the result is one clean
// stream: one muxer (continuity counters and PCR of its own), timestamps rebased to
// start at 0 and continuous across segments, encoded runs and ranges.
//
// Every call reads files or parses bytes, so it blocks: the loop runs them through an
// io::TaskGroup, one call at a time. The output accumulates until take_output().
namespace wubd::media {

class TsSplicer {
 public:
  TsSplicer();
  ~TsSplicer();
  TsSplicer(const TsSplicer&) = delete;
  TsSplicer& operator=(const TsSplicer&) = delete;

  // Takes the output's streams (the first video and first audio stream) from a
  // segment of the stream and writes the MPEG-TS header.
  core::Result<bool> open(const io::BeneathPath& first_segment);

  // A range starts: its first frame (of the next origin, below) lands right after what
  // was written: at 0 for the first range, unless its first dts must trail its pts by
  // `lead` (a range starting on a copied keyframe of a stream with B-frames: dts may
  // not go below 0). `frame_ticks` is the frame duration, to place the next range.
  void begin_range(std::int64_t lead, std::int64_t frame_ticks);

  // Packets of one segment file to copy: video with wall time in [video_from,
  // video_to), audio in [audio_from, audio_to), where wall time = `wall_start` +
  // (pts - `reference_pts`, core::reference_pts). Without `reference_pts` (a segment
  // wholly inside the range) every video and audio packet is copied.
  struct Segment {
    io::BeneathPath path;
    // Instead of a file: MPEG-TS in memory (a transition clip), copied whole.
    std::shared_ptr<const std::string> bytes;
    core::Micros wall_start = 0;
    std::optional<std::int64_t> reference_pts;
    core::Micros video_from = 0, video_to = 0;
    core::Micros audio_from = 0, audio_to = 0;
    // The range's first frame is in this file, at this pts: the range's timestamps
    // are counted from it.
    std::optional<std::int64_t> origin_pts;
    // A later encoded run replaces frames from this pts on: remember where it lands.
    std::optional<std::int64_t> mark_pts;
  };
  core::Result<bool> add_segment(const Segment& segment);

  // A run of re-encoded video frames (no B-frames; RunEncoder's), in place of the
  // source's frames from `origin_pts` on (their pts count from it), placed at the
  // range's origin (`at_mark` false: a head) or at the last mark (a tail). Their dts
  // trails their pts by `lag_first` at the first frame, going evenly to `lag_last`
  // at the last of `frames`: a head starting at lag 0 (pts from 0) catches up with
  // the lag of the copied frames after it, which their B-frames need. A run may come
  // in several calls.
  struct EncodedRun {
    std::int64_t origin_pts = 0;
    bool at_mark = false;
    std::int64_t lag_first = 0;
    std::int64_t lag_last = 0;
    int frames = 0;
  };
  core::Result<bool> add_encoded(const std::vector<EncodedFrame>& frames, const EncodedRun& run);

  // Flushes the muxer and writes its trailer.
  core::Result<bool> finish();

  // The bytes written since the last call.
  std::string take_output();

  // Packets dropped or given a later dts to keep each stream's dts increasing
  // (sources with timestamp jumps; 0 for a clean source).
  int repaired_packets() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace wubd::media
