#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wubd/core/best_segments.h"
#include "wubd/core/range_limits.h"
#include "wubd/core/result.h"
#include "wubd/core/time.h"
#include "wubd/core/transitions.h"
#include "wubd/core/url.h"

// /cut, planned: which segments make a clip, where the first and last are trimmed,
// and the ffmpeg command lines, as values. The restreamer carries a plan out.
namespace wubd::core {

enum class CutType { Rough, Fast, Smart, Mpegts, Mp4, Webm };

std::string_view to_string(CutType type);
// The clip's Content-Type: video/mp2t, video/mp4 or video/webm.
std::string_view cut_content_type(CutType type);
// Whether the cut re-encodes everything with ffmpeg in one graph (mpegts, mp4, webm).
bool is_full_cut(CutType type);

// A time range of the clip, [start, end).
using CutRange = TimeRange;

struct CutRequest {
  std::vector<CutRange> ranges;  // in order, cut back to back
  // Between ranges i and i + 1 (one fewer than ranges): a transition, or nullopt for
  // a hard cut. Rough cuts ignore them, as wubloader's do.
  std::vector<std::optional<Transition>> transitions;
  bool allow_holes = false;
  CutType type = CutType::Rough;
  // How much transitions take off the start and the end of range i.
  Micros transition_in(std::size_t i) const { return i > 0 && transitions[i - 1] ? transitions[i - 1]->duration : 0; }
  Micros transition_out(std::size_t i) const {
    return i < transitions.size() && transitions[i] ? transitions[i]->duration : 0;
  }
};

// Reads /cut's parameters from the raw query (`range` may repeat):
// - `start`/`end`, or one or more `range=START,END`; a missing start or end defaults to
//   `available` (the variant's first and last hour), or is a 400 without it;
// - `end` must be after `start` (400, naming the range);
// - the ranges together must fit `cap` (400 naming its flag);
// - `allow_holes` `true`/`false` (default false; case-insensitive; anything else 400);
// - `type` rough/fast/smart/mpegts/mp4/webm (default rough, or fast when transitions
//   are asked for), `experimental=true` means fast; an unknown type is 400 listing the
//   choices;
// - `transition=TYPE,DURATION` (repeatable, "" a hard cut), for the joins in order;
//   fewer than joins: the rest are hard cuts; as many as ranges or more: 400 "Too
//   many transitions"; a range must be longer than the transitions into and out of it
//   (400 naming it).
Result<CutRequest> parse_cut_request(std::string_view raw_query, std::optional<CutRange> available,
                                     const RangeCap& cap);

// One segment of a clip: the whole file, or trimmed to [trim_start, trim_end) of its
// own time (offsets from the segment's start).
struct CutPiece {
  SegmentRef segment;  // keeps its hour listing alive: plans are safe to hold
  std::optional<Micros> trim_start;
  std::optional<Micros> trim_end;
  // A hole lies between this piece and the one before it in the same range: the
  // source's timestamps jump here.
  bool after_hole = false;
  bool trimmed() const { return trim_start || trim_end; }
};

struct CutPlan {
  std::vector<CutPiece> pieces;  // in output order, all ranges
  bool has_holes = false;
  Micros duration = 0;  // of the clip after trimming, holes excluded
};

// Plans one range from its best segments (with holes as nullptr). Errors carry 406:
// holes when they are not allowed, or nothing at all in the range.
Result<CutPlan> plan_cut(const std::vector<SegmentOrHole>& best, const CutRange& range, bool allow_holes);

// One input of a full cut: a range's segments, fed back to back, of which ffmpeg
// keeps [offset, offset + duration) (offset from the first segment's start).
struct FullCutInput {
  Micros offset = 0;
  Micros duration = 0;
};

// Appends `next` to `plan` (ranges cut back to back).
void append_plan(CutPlan& plan, CutPlan next);

// One range's pieces split at its holes into runs that are continuous in the source,
// each as what a full cut's ffmpeg keeps of it: from `offset` into the run's first
// segment, for `duration`. A full cut feeds each run as its own input, so a hole
// neither shortens what comes after it nor leaves a gap in the clip.
std::vector<FullCutInput> full_cut_runs(const std::vector<CutPiece>& pieces);

// ffmpeg trimming one segment (read from `input`) to MPEG-TS on stdout for the fast
// cut, keeping its streams: video re-encoded with its own codec (`codecs`: per input
// stream index, the video codec, or "" for a stream copied as it is: audio, data).
// Offsets count from the file's first timestamp, `file_start` (µs of its timeline),
// as ffmpeg's -ss does. The output keeps the source's timestamps (-copyts, no mux
// delay) so that it joins the copied segments around it with no jump: a head's last
// decode time stays below the next segment's first one as long as the source delays
// its frames by at most two (x264's B-frames, kept in a head), and a tail is encoded
// without B-frames, so its first frame decodes after the segment before it.
std::vector<std::string> trim_segment_argv(const std::string& input, const std::vector<std::string>& codecs,
                                           Micros file_start, std::optional<Micros> trim_start,
                                           std::optional<Micros> trim_end);

// ffmpeg reading each range's segments from a pipe (stdin for the first, then pipe:3,
// pipe:4, …) and writing the re-encoded ranges, back to back, to stdout: MPEG-TS or
// fragmented MP4. Several ranges are joined by the concat filter, which needs to know
// which of video and audio the stream has; one range ignores those.
std::vector<std::string> full_cut_argv(CutType type, const std::vector<FullCutInput>& inputs, bool has_video,
                                       bool has_audio);
// The same, `joins[i]` joining input i to i + 1: nullopt back to back, else a
// transition (xfade and acrossfade over its duration, starting that long before the
// earlier input ends). The inputs' timestamps are made to start at 0 in one time base
// first, as xfade wants.
std::vector<std::string> full_cut_argv(CutType type, const std::vector<FullCutInput>& inputs,
                                       const std::vector<std::optional<Transition>>& joins, bool has_video,
                                       bool has_audio);

// The same for an MP4 file a browser can seek in (the cut cache's): the index first
// (`-movflags +faststart`, which needs a file ffmpeg can read back), ending with `-y`
// for the caller to add the file to write.
std::vector<std::string> seekable_mp4_argv(const std::vector<FullCutInput>& inputs,
                                           const std::vector<std::optional<Transition>>& joins, bool has_video,
                                           bool has_audio);

// A transition between two ranges, made apart (fast and smart cuts): the end of the
// first range and the start of the second, each as the segments covering it, fed to
// ffmpeg back to back (`from` on stdin, `to` on pipe:3), `offset` into its first one.
struct TransitionInput {
  std::vector<SegmentRef> segments;
  Micros offset = 0;
};
struct TransitionClip {
  TransitionInput from;
  TransitionInput to;
  Transition transition;
};
// The segments of `from_window` (the last `transition.duration` of a range) and
// `to_window` (the first of the next) from their best segments. A hole in either is
// 406: the transition needs the video on both sides of it.
Result<TransitionClip> plan_transition(const std::vector<SegmentOrHole>& from_best, const CutRange& from_window,
                                       const std::vector<SegmentOrHole>& to_best, const CutRange& to_window,
                                       const Transition& transition);

// ffmpeg making a transition clip as MPEG-TS on stdout: both inputs trimmed to the
// transition's duration, xfade and acrossfade over all of it, the video encoded with
// the source's codec (`video_codec`, "h264") without B-frames (it is joined to
// copied video), the audio as AAC, timestamps from 0.
std::vector<std::string> transition_argv(const TransitionClip& clip, const std::string& video_codec, bool has_video,
                                         bool has_audio);

// `12.345678`: seconds for ffmpeg's -ss/-to/-t, exact to the microsecond.
std::string ffmpeg_seconds(Micros t);

}  // namespace wubd::core
