#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "wubd/core/cut_plan.h"
#include "wubd/core/time.h"

// type=smart, planned: which video frames of a range must be re-encoded (from the
// start to the first keyframe, from the last keyframe to the end) and which packets
// are copied untouched, decided from the frames of the first and last segments.
// Frames are known by their MPEG-TS timestamps (90 kHz ticks), as read from the files.
namespace wubd::core {

inline constexpr std::int64_t kTsTicksPerSecond = 90'000;

// µs <-> 90 kHz ticks (rounded down: a frame's tick time is never after its µs time).
std::int64_t micros_to_ticks(Micros t);
Micros ticks_to_micros(std::int64_t ticks);

// One video frame of a segment file.
struct VideoFrame {
  std::int64_t pts = 0;  // ticks, as in the file
  std::int64_t dts = 0;
  bool key = false;
};

// What a segment file holds, as far as the plan needs: its video frames in
// presentation order, and the file's start (the earliest timestamp of any stream).
struct SegmentFrames {
  std::int64_t start_pts = 0;
  std::vector<VideoFrame> video;
};

// The pts at the segment's named start time: its first video frame's (audio may lead
// it by a few packets; a frame-exact cut counts frames from the segment's first), or
// the file's start without video. Wall time of a pts = segment start + (pts - this).
std::int64_t reference_pts(const SegmentFrames& frames);

// A run of frames to re-encode: read from pieces [first_piece, last_piece] in order,
// `frames` frames from the one at `origin_pts` (in `origin_piece`, the first).
// Counting frames from a known one, not time, makes the ends exact.
struct SmartEncode {
  std::size_t first_piece = 0;
  std::size_t last_piece = 0;
  int frames = 0;
  // The first encoded frame's timestamps in its source piece: the encoded frames take
  // its place. `delay` is how far the copied neighbour's dts trails its pts; encoded
  // frames (no B-frames) get the same, so dts stays monotonic across the join.
  std::size_t origin_piece = 0;
  std::int64_t origin_pts = 0;
  std::int64_t delay = 0;
};

// One range of a smart cut.
struct SmartRangePlan {
  std::optional<SmartEncode> head;  // frames before the first keyframe
  std::optional<SmartEncode> tail;  // frames from the last keyframe, if the end cuts a GOP
  // Copied from the pieces: video packets with wall time in [copy_from, copy_to),
  // audio packets in [audio_from, audio_to) (wall time: see reference_pts).
  Micros copy_from = 0;
  Micros copy_to = 0;
  Micros audio_from = 0;
  Micros audio_to = 0;
  // The clip's first frame (video, or the start for audio-only): its piece and pts.
  // The output's timestamps count from it; `delay` is its dts lag (see SmartEncode).
  std::size_t origin_piece = 0;
  std::int64_t origin_pts = 0;
  std::int64_t delay = 0;
  std::int64_t frame_ticks = 0;  // the video's frame duration (0: no video)
  int video_frames = -1;         // in the clip if every piece was read, else -1 (for logs and tests)
};

// The plan needs this piece's frames first.
struct NeedFrames {
  std::size_t piece = 0;
};

// Plans one range from its pieces (plan_cut's, in order) and what is known of their
// frames (`frames[i]` for pieces[i], nullopt if not read yet). Returns the piece to
// read next when the plan depends on it: the first pieces until the first keyframe
// after the start, the last pieces back to the last keyframe before the end.
// Assumes closed GOPs (every keyframe starts a group that needs nothing before it).
std::variant<SmartRangePlan, NeedFrames> plan_smart_range(const std::vector<CutPiece>& pieces, const CutRange& range,
                                                          const std::vector<std::optional<SegmentFrames>>& frames);

}  // namespace wubd::core
