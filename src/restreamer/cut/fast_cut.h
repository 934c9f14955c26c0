#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "cut_body.h"
#include "fed_child.h"
#include "wubd/core/time.h"
#include "wubd/core/ts_retimer.h"
#include "wubd/io/child_process.h"
#include "wubd/io/file_streamer.h"

// type=fast (wubloader's "experimental" cut): the first and last segments trimmed by
// ffmpeg with the source's codecs (probed with libavformat; ffmpeg reads the segment
// from a pipe we feed), the middle ones copied as bytes (io::FileStreamer: from the
// page cache), all in order into one streamed response. Failure rules as FullCut. A
// clip of one continuous run keeps the source's timestamps (the trimmed ends are made
// to join it) and its middle goes out from the page cache untouched; a clip with
// holes or several ranges goes through core::TsRetimer, so its timestamps rise across
// every jump. A transition between ranges is a step of its own: ffmpeg blends the end
// of one range into the start of the next (transition_argv), re-encoded with the
// source's codec, and the ranges around it are cut short by its length.
namespace wubd::restreamer {

// A transition between two ranges, made by ffmpeg from the segments on either side.
struct TransitionFiles {
  core::TransitionClip clip;  // its segments keep their listings alive
  std::vector<io::BeneathPath> from;
  std::vector<io::BeneathPath> to;
};

struct FastCutStep {
  // The step's segment, or (for a transition) nothing: `transition` says what to make.
  std::optional<TransitionFiles> transition;
  io::BeneathPath path;
  std::optional<core::Micros> trim_start;  // offsets into the segment
  std::optional<core::Micros> trim_end;
  // The source's timestamps jump here (a later range, or after a hole): from here on
  // the clip's timestamps are shifted to continue where they were (core::TsRetimer).
  bool new_part = false;
};

class FastCut final : public CutBody {
 public:
  // `fmp4`: the segments are fragmented MP4: whole ones are remuxed to MPEG-TS (in the
  // threadpool) instead of copied, and every step is retimed onto the one before.
  FastCut(uv_loop_t* loop, CutSlots::Slot slot, std::vector<FastCutStep> steps, bool fmp4);

  void resume() override;

 private:
  void run() override;
  std::string on_stop() override;
  void next_step();
  // Runs ffmpeg on a segment to trim; `file_start` is its first timestamp.
  void trim(const FastCutStep& step, core::Micros file_start);
  // Feeds the trimming child the segment, a chunk at a time (one segment: a few MB).
  void feed_child();
  // Sends clip bytes, retimed when the clip needs it.
  void relay(std::string_view bytes);
  // A whole segment read in chunks and retimed (a clip whose timestamps jump).
  void copy_retimed(const FastCutStep& step);
  void read_retimed();
  // A whole fMP4 segment, remuxed to MPEG-TS in the threadpool.
  void remux_step(const FastCutStep& step);
  // Lets go of the trimming child; it may be the one calling (its exit), so it is
  // freed on the next loop turn.
  void retire_child();
  // A transition step: ffmpeg fed the segments on both sides, its clip relayed.
  void make_transition(const TransitionFiles& transition);

  std::vector<FastCutStep> steps_;
  bool fmp4_;
  bool retime_ = false;
  core::TsRetimer retimer_;
  std::vector<std::string> codecs_;
  bool has_video_ = true;
  bool has_audio_ = true;
  std::unique_ptr<FedChild> transition_;  // the transition being made
  core::Micros first_start_time_ = 0;     // the first segment's start time, from its probe
  std::size_t step_ = 0;
  std::unique_ptr<io::ChildProcess> child_;
  std::shared_ptr<const io::OwnedFd> feed_;  // the segment the child is trimming, while it is fed
  std::int64_t feed_offset_ = 0;
  io::FileStreamer streamer_;                     // whole segments, from the page cache
  std::shared_ptr<const io::OwnedFd> copy_file_;  // the segment copy_retimed is reading
  std::int64_t copy_offset_ = 0;
  bool copy_waiting_ = false;   // a retimed copy waits for the client to take the last chunk
  bool remux_waiting_ = false;  // a remuxed segment went out; the next step waits for room
};

}  // namespace wubd::restreamer
