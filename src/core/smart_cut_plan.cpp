#include "wubd/core/smart_cut_plan.h"

namespace wubd::core {
namespace {

// A frame with where it is: its piece and its wall time.
struct Located {
  std::size_t piece = 0;
  VideoFrame frame;
  Micros wall = 0;
};

Micros piece_start(const CutPiece& piece) { return piece.segment->name.start; }

Micros wall_time(const CutPiece& piece, const SegmentFrames& frames, const VideoFrame& frame) {
  return piece_start(piece) + ticks_to_micros(frame.pts - reference_pts(frames));
}

SmartEncode make_encode(const std::vector<Located>& run, std::int64_t delay) {
  SmartEncode encode;
  encode.first_piece = run.front().piece;
  encode.last_piece = run.back().piece;
  encode.frames = int(run.size());
  encode.origin_piece = run.front().piece;
  encode.origin_pts = run.front().frame.pts;
  encode.delay = delay;
  return encode;
}

// The smallest step between frames: the frame duration, B-frames or not.
std::int64_t frame_step(const SegmentFrames& frames) {
  std::int64_t step = 0;
  for (std::size_t i = 1; i < frames.video.size(); ++i) {
    std::int64_t d = frames.video[i].pts - frames.video[i - 1].pts;
    if (d > 0 && (step == 0 || d < step)) step = d;
  }
  return step;
}

}  // namespace

std::int64_t micros_to_ticks(Micros t) {
  // Floor division, also for negative offsets.
  std::int64_t scaled = t * 9;
  return scaled >= 0 ? scaled / 100 : -((-scaled + 99) / 100);
}

Micros ticks_to_micros(std::int64_t ticks) {
  std::int64_t scaled = ticks * 100;
  return scaled >= 0 ? scaled / 9 : -((-scaled + 8) / 9);
}

// Over 100 lines on purpose: the smart cut's plan of one range, edge by edge (which
// GOPs to re-encode, which to copy); its steps share the range's running state.
// NOLINTNEXTLINE(readability-function-size)
std::variant<SmartRangePlan, NeedFrames> plan_smart_range(const std::vector<CutPiece>& pieces, const CutRange& range,
                                                          const std::vector<std::optional<SegmentFrames>>& frames) {
  // Forward: the wanted frames from the start up to the first keyframe.
  std::vector<Located> leading;  // frames in [start, end) up to and including that keyframe
  bool found_first_key = false;
  for (std::size_t i = 0; i < pieces.size() && !found_first_key; ++i) {
    if (!frames[i]) return NeedFrames{i};
    for (const VideoFrame& frame : frames[i]->video) {
      Micros wall = wall_time(pieces[i], *frames[i], frame);
      if (wall < range.start) continue;
      if (wall >= range.end) break;
      leading.push_back({i, frame, wall});
      if (frame.key) {
        found_first_key = true;
        break;
      }
    }
  }

  SmartRangePlan plan;
  plan.audio_to = range.end;
  if (leading.empty()) {
    // No video in the range (an audio-only variant, or a range shorter than a frame):
    // the audio alone, from the range's start.
    const SegmentFrames& first = *frames[0];
    Micros from = std::max(range.start, piece_start(pieces[0]));
    plan.copy_from = plan.copy_to = from;
    plan.audio_from = from;
    plan.origin_piece = 0;
    plan.origin_pts = reference_pts(first) + micros_to_ticks(from - piece_start(pieces[0]));
    return plan;
  }

  // Backward: the wanted frames from the end back to the last keyframe, and whether
  // that keyframe's group runs past the end (then it is cut, so re-encoded).
  std::vector<Located> trailing;  // from the last keyframe before the end, reversed
  bool group_cut_at_end = false;
  bool found_last_key = false;
  bool passed_start = false;
  for (std::size_t i = pieces.size(); i-- > 0 && !found_last_key && !passed_start;) {
    if (!frames[i]) return NeedFrames{i};
    const auto& video = frames[i]->video;
    for (auto it = video.rbegin(); it != video.rend(); ++it) {
      Micros wall = wall_time(pieces[i], *frames[i], *it);
      if (wall >= range.end) {
        group_cut_at_end = !it->key;  // a keyframe past the end starts a later group
        continue;
      }
      if (wall < range.start) {
        passed_start = true;
        break;
      }
      trailing.push_back({i, *it, wall});
      if (it->key) {
        found_last_key = true;
        break;
      }
    }
  }

  const Located& first = leading.front();
  plan.audio_from = first.wall;
  plan.origin_piece = first.piece;
  plan.origin_pts = first.frame.pts;
  plan.frame_ticks = frame_step(*frames[first.piece]);

  if (!found_first_key) {
    // No keyframe in the range: every frame is re-encoded, in one run.
    std::vector<Located> all = leading;
    for (std::size_t i = first.piece + 1; i < pieces.size(); ++i) {
      for (const VideoFrame& frame : frames[i]->video) {
        Micros wall = wall_time(pieces[i], *frames[i], frame);
        if (wall >= range.start && wall < range.end) all.push_back({i, frame, wall});
      }
    }
    plan.head = make_encode(all, 0);
    plan.copy_from = plan.copy_to = first.wall;
    plan.video_frames = int(all.size());
    return plan;
  }

  const Located& first_key = leading.back();
  const Located& last_key = trailing.back();
  plan.delay = first_key.frame.pts - first_key.frame.dts;
  if (leading.size() > 1) {
    std::vector<Located> head(leading.begin(), leading.end() - 1);
    plan.head = make_encode(head, plan.delay);
  }
  plan.copy_from = first_key.wall;
  plan.copy_to = range.end;
  if (group_cut_at_end) {
    std::vector<Located> tail(trailing.rbegin(), trailing.rend());
    plan.tail = make_encode(tail, last_key.frame.pts - last_key.frame.dts);
    plan.copy_to = last_key.wall;
  }

  // The clip's frames, when every piece was read (the middle ones need not be).
  int counted = 0;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    if (!frames[i]) {
      counted = -1;
      break;
    }
    for (const VideoFrame& frame : frames[i]->video) {
      Micros wall = wall_time(pieces[i], *frames[i], frame);
      counted += wall >= range.start && wall < range.end;
    }
  }
  plan.video_frames = counted;
  return plan;
}

std::int64_t reference_pts(const SegmentFrames& frames) {
  return frames.video.empty() ? frames.start_pts : frames.video.front().pts;
}

}  // namespace wubd::core
