#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "cut_body.h"
#include "fast_cut.h"
#include "fed_child.h"
#include "wubd/core/best_segments.h"
#include "wubd/core/cut_plan.h"
#include "wubd/core/smart_cut_plan.h"
#include "wubd/media/run_encoder.h"
#include "wubd/media/ts_splicer.h"

// type=smart: frame-exact ends in one clean MPEG-TS. Per range, the frames from the
// start to the first keyframe and from the last keyframe to the end are re-encoded
// (media::RunEncoder, a few frames per threadpool call, one run at a time and each
// ahead of where the output needs it); every other video and audio packet is copied
// untouched. One muxer (media::TsSplicer, in the threadpool a segment at a time, as
// fast as the client takes it) joins them. Failure rules as the other cuts: 500 before the
// first byte, abort after. A transition between two ranges is made by ffmpeg
// (transition_argv, as the fast cut's) while the cut plans, kept in memory (a few
// seconds of video) and spliced in between them as a range of its own; the ranges
// around it are cut short by its length.
namespace wubd::restreamer {

class SmartCut final : public CutBody {
 public:
  // `transitions[i]` joins ranges i and i + 1 (nullopt: back to back).
  SmartCut(uv_loop_t* loop, CutSlots::Slot slot, std::vector<CutRangeFiles> ranges,
           std::vector<std::optional<TransitionFiles>> transitions);

  void resume() override { pump(); }

 private:
  // A re-encoded run: its frames arrive in batches, ahead of the splicer.
  struct Encode {
    std::shared_ptr<media::RunEncoder> encoder;
    std::vector<media::EncodedFrame> ready;  // encoded, not yet spliced
    bool busy = false;                       // a threadpool call is in flight
    bool done = false;
  };
  // One step of the output, in order.
  struct Part {
    enum class Kind { BeginRange, Segment, Encoded, Transition } kind = Kind::Segment;
    media::TsSplicer::Segment segment;  // Segment
    std::size_t encode = 0;             // Encoded; Transition: its index
    media::TsSplicer::EncodedRun run;   // Encoded
    std::int64_t lead = 0;              // BeginRange
    std::int64_t frame_ticks = 0;       // BeginRange
  };

  // A transition clip being made, then kept until it is spliced in.
  struct Clip {
    std::unique_ptr<FedChild> child;
    std::string bytes;
    bool ready = false;
  };

  void run() override;
  std::string on_stop() override;
  // Starts ffmpeg making each transition clip, with the source's video codec.
  void make_transitions(const std::string& video_codec, bool has_video, bool has_audio);
  void read_ends();
  // Reads a piece's frames in the threadpool, then runs `then` (unless the cut ended).
  void read_frames(std::size_t range, std::size_t piece, std::function<void()> then);
  void plan_next_range();
  void build_parts();
  void encode_next_batch();
  void pump();
  // Runs `work` on the splicer in the threadpool, then relays its output and pumps.
  void run_splicer(std::function<core::Result<bool>(media::TsSplicer&)> work, std::function<void()> after);

  std::vector<CutRangeFiles> ranges_;
  std::vector<std::optional<TransitionFiles>> transitions_;
  std::vector<Clip> clips_;  // one per transition (unused where there is none)
  // Planning: what is known of each range's pieces' frames, and the plans.
  std::vector<std::vector<std::optional<core::SegmentFrames>>> frames_;
  std::vector<core::SmartRangePlan> plans_;
  // Output.
  std::vector<Encode> encodes_;
  std::vector<Part> parts_;
  std::size_t next_part_ = 0;
  std::size_t next_encode_ = 0;  // the run being encoded
  // Shared with the threadpool call using it, which may outlive the cut.
  std::shared_ptr<media::TsSplicer> splicer_ = std::make_shared<media::TsSplicer>();
  bool opened_ = false;
  bool splicing_ = false;  // a threadpool call on the splicer is in flight
  bool closed_ = false;    // the trailer is written
};

}  // namespace wubd::restreamer
