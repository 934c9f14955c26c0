#include "wubd/core/cut_plan.h"

#include <algorithm>
#include <cstdio>

namespace wubd::core {
namespace {

std::string lower(std::string text) {
  for (char& c : text) c = char(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

Result<CutType> parse_cut_type(const std::string& text) {
  static const std::pair<const char*, CutType> kTypes[] = {{"rough", CutType::Rough}, {"fast", CutType::Fast},
                                                           {"smart", CutType::Smart}, {"mpegts", CutType::Mpegts},
                                                           {"mp4", CutType::Mp4},     {"webm", CutType::Webm}};
  for (const auto& [name, type] : kTypes) {
    if (text == name) return type;
  }
  return make_error("Unknown type \"" + text + "\": use rough, fast, smart, mpegts, mp4 or webm", 400);
}

Result<Micros> parse_param_time(const QueryParams& params, const char* name, std::optional<Micros> fallback) {
  auto it = params.find(name);
  if (it == params.end()) {
    if (fallback) return *fallback;
    return make_error(std::string(name) + " is required", 400);
  }
  auto t = parse_time(it->second);
  if (!t) return make_error("Bad " + std::string(name) + ": " + t.error().message, 400);
  return *t;
}

}  // namespace

std::string_view to_string(CutType type) {
  switch (type) {
    case CutType::Rough:
      return "rough";
    case CutType::Fast:
      return "fast";
    case CutType::Smart:
      return "smart";
    case CutType::Mpegts:
      return "mpegts";
    case CutType::Mp4:
      return "mp4";
    case CutType::Webm:
      return "webm";
  }
  return "?";
}

std::string_view cut_content_type(CutType type) {
  switch (type) {
    case CutType::Mp4:
      return "video/mp4";
    case CutType::Webm:
      return "video/webm";
    default:
      return "video/mp2t";
  }
}

bool is_full_cut(CutType type) { return type == CutType::Mpegts || type == CutType::Mp4 || type == CutType::Webm; }

Result<CutRequest> parse_cut_request(std::string_view raw_query, std::optional<CutRange> available,
                                     const RangeCap& cap) {
  auto params = parse_query(raw_query);
  if (!params) return params.error();
  CutRequest request;
  auto ranges = query_values(raw_query, "range");
  if (!ranges) return ranges.error();
  for (const std::string& text : *ranges) {
    std::size_t comma = text.find(',');
    if (comma == std::string::npos) return make_error("Bad range \"" + text + "\": expected START,END", 400);
    auto start = parse_time(std::string_view(text).substr(0, comma));
    auto end = parse_time(std::string_view(text).substr(comma + 1));
    if (!start || !end) {
      return make_error("Bad range \"" + text + "\": " + (!start ? start.error() : end.error()).message, 400);
    }
    request.ranges.push_back({*start, *end});
  }
  if (request.ranges.empty()) {
    auto start = parse_param_time(*params, "start", available ? std::optional<Micros>(available->start) : std::nullopt);
    if (!start) return start.error();
    auto end = parse_param_time(*params, "end", available ? std::optional<Micros>(available->end) : std::nullopt);
    if (!end) return end.error();
    request.ranges.push_back({*start, *end});
  }
  auto transitions = query_values(raw_query, "transition");
  if (!transitions) return transitions.error();
  for (const std::string& text : *transitions) {
    auto transition = parse_transition(text);
    if (!transition) return transition.error();
    request.transitions.push_back(*transition);
  }
  if (request.transitions.size() >= request.ranges.size() && !request.transitions.empty()) {
    return make_error("Too many transitions", 400);
  }
  request.transitions.resize(request.ranges.size() - 1);  // the rest are hard cuts
  Micros total = 0;
  for (const CutRange& range : request.ranges) {
    if (range.end <= range.start) {
      return make_error("End must be after start (" + format_time(range.start) + " to " + format_time(range.end) + ")",
                        400);
    }
    total += range.span();  // each at most 10,000 years: no overflow for the ranges a URL holds
  }
  if (auto error = check_range_cap(total, cap)) return *error;
  for (std::size_t i = 0; i < request.ranges.size(); ++i) {
    Micros taken = request.transition_in(i) + request.transition_out(i);
    if (taken > 0 && request.ranges[i].span() <= taken) {
      return make_error("Range " + std::to_string(i + 1) + " (" + ffmpeg_seconds(request.ranges[i].span()) +
                            " s) is not longer than its transitions (" + ffmpeg_seconds(taken) + " s)",
                        400);
    }
  }
  if (auto it = params->find("allow_holes"); it != params->end()) {
    std::string value = lower(it->second);
    if (value != "true" && value != "false") return make_error("allow_holes must be one of: true, false", 400);
    request.allow_holes = value == "true";
  }
  if (auto it = params->find("type"); it != params->end()) {
    auto type = parse_cut_type(it->second);
    if (!type) return type.error();
    request.type = *type;
  } else {
    // experimental=true is wubloader's name for a fast cut. Without a type, a cut asking
    // for transitions is wubloader's default type, fast, which makes them: the default
    // rough cut would drop them without a word.
    auto experimental = params->find("experimental");
    bool wants_transitions = std::any_of(request.transitions.begin(), request.transitions.end(),
                                         [](const auto& t) { return t.has_value(); });
    if ((experimental != params->end() && lower(experimental->second) == "true") || wants_transitions) {
      request.type = CutType::Fast;
    }
  }
  return request;
}

Result<CutPlan> plan_cut(const std::vector<SegmentOrHole>& best, const CutRange& range, bool allow_holes) {
  CutPlan plan;
  plan.has_holes = std::find(best.begin(), best.end(), nullptr) != best.end();
  if (plan.has_holes && !allow_holes) {
    return make_error("Requested time range contains holes or is incomplete.", 406);
  }
  bool hole_before = false;
  for (const SegmentOrHole& segment : best) {
    if (!segment) {
      hole_before = true;
      continue;
    }
    CutPiece piece;
    piece.segment = segment;
    piece.after_hole = hole_before && !plan.pieces.empty();
    hole_before = false;
    const SegmentNameView& name = segment->name;
    if (name.start < range.start) piece.trim_start = range.start - name.start;
    if (name.end() > range.end) piece.trim_end = range.end - name.start;
    Micros from = piece.trim_start.value_or(0);
    Micros to = piece.trim_end.value_or(name.duration);
    if (to <= from) continue;  // touches the range only within the tolerance
    plan.duration += to - from;
    plan.pieces.push_back(piece);
  }
  if (plan.pieces.empty()) return make_error("We have no content available within the requested time range.", 406);
  return plan;
}

void append_plan(CutPlan& plan, CutPlan next) {
  plan.has_holes = plan.has_holes || next.has_holes;
  plan.duration += next.duration;
  plan.pieces.insert(plan.pieces.end(), next.pieces.begin(), next.pieces.end());
}

std::vector<FullCutInput> full_cut_runs(const std::vector<CutPiece>& pieces) {
  std::vector<FullCutInput> runs;
  for (const CutPiece& piece : pieces) {
    Micros from = piece.trim_start.value_or(0);
    Micros to = piece.trim_end.value_or(piece.segment->name.duration);
    if (runs.empty() || piece.after_hole) runs.push_back({from, 0});
    runs.back().duration += to - from;
  }
  return runs;
}

std::string ffmpeg_seconds(Micros t) {
  char text[40];
  const char* sign = t < 0 ? "-" : "";
  Micros a = t < 0 ? -t : t;
  std::snprintf(text, sizeof text, "%s%lld.%06lld", sign, static_cast<long long>(a / kMicrosPerSecond),
                static_cast<long long>(a % kMicrosPerSecond));
  return text;
}

std::vector<std::string> trim_segment_argv(const std::string& input, const std::vector<std::string>& codecs,
                                           Micros file_start, std::optional<Micros> trim_start,
                                           std::optional<Micros> trim_end) {
  std::vector<std::string> argv = {"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-copyts", "-i", input};
  for (std::size_t i = 0; i < codecs.size(); ++i) {
    // The same streams in the same positions: video re-encoded with the source's
    // codec, the rest copied (its packets keep their timestamps, so audio joins the
    // copied middle exactly).
    argv.insert(argv.end(), {"-map", "0:" + std::to_string(i), "-codec:" + std::to_string(i),
                             codecs[i].empty() ? "copy" : codecs[i]});
  }
  // A trimmed end is at most one segment: encode it fast, and start writing at once
  // (one thread and no rate-control lookahead: no frames held back), so the clip's
  // first bytes come out sooner (~150 -> ~100 ms). Other encoders ignore these.
  argv.insert(argv.end(), {"-preset", "veryfast", "-threads", "1", "-x264-params", "rc-lookahead=0"});
  // The encoder counts in the source's 90 kHz ticks, not in frames: in frames, a time
  // between two of them would be rounded away and the end put off its place by it.
  argv.insert(argv.end(), {"-enc_time_base:v", "1/90000"});
  // A tail starts at the keyframe after copied frames whose decode times trail their
  // presentation by up to two frames: without B-frames its first decode time is its
  // presentation time, after all of theirs.
  if (!trim_start) argv.insert(argv.end(), {"-bf", "0"});
  // With -copyts, -ss/-to are times of the file's own timeline, and the output is
  // shifted back by -ss unless -output_ts_offset puts it where it was.
  if (trim_start) {
    std::string at = ffmpeg_seconds(file_start + *trim_start);
    argv.insert(argv.end(), {"-ss", at, "-output_ts_offset", at});
    if (trim_end) argv.insert(argv.end(), {"-t", ffmpeg_seconds(*trim_end - *trim_start)});
  } else if (trim_end) {
    argv.insert(argv.end(), {"-to", ffmpeg_seconds(file_start + *trim_end)});
  }
  argv.insert(argv.end(), {"-muxdelay", "0", "-muxpreload", "0", "-f", "mpegts", "-"});
  return argv;
}

namespace {

// The encoder and the container of a full cut.
void add_full_cut_output(std::vector<std::string>& argv, CutType type) {
  if (type == CutType::Webm) {
    // VP9 and Opus, for browsers. libvpx at its realtime speed: at its default it
    // encodes several times slower than real time even at low resolutions.
    argv.insert(argv.end(), {"-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "0", "-crf", "32",
                             "-c:a", "libopus", "-f", "webm", "-"});
    return;
  }
  argv.insert(argv.end(), {"-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac"});
  if (type == CutType::Mp4) {
    // Fragmented, so it streams: no seeking back to write the index.
    argv.insert(argv.end(), {"-movflags", "frag_keyframe+empty_moov+default_base_moof", "-f", "mp4", "-"});
  } else {
    argv.insert(argv.end(), {"-f", "mpegts", "-"});
  }
}

std::string pipe_name(std::size_t i) { return i == 0 ? "pipe:0" : "pipe:" + std::to_string(i + 2); }

}  // namespace

std::vector<std::string> seekable_mp4_argv(const std::vector<FullCutInput>& inputs,
                                           const std::vector<std::optional<Transition>>& joins, bool has_video,
                                           bool has_audio) {
  std::vector<std::string> argv = full_cut_argv(CutType::Mp4, inputs, joins, has_video, has_audio);
  // The streamed MP4's fragmented output becomes a plain one with its index first.
  auto movflags = std::find(argv.begin(), argv.end(), "-movflags");
  if (movflags != argv.end() && movflags + 1 != argv.end()) *(movflags + 1) = "+faststart";
  argv.back() = "-y";  // the output, "-", is the caller's file
  return argv;
}

std::vector<std::string> full_cut_argv(CutType type, const std::vector<FullCutInput>& inputs, bool has_video,
                                       bool has_audio) {
  std::vector<std::string> argv = {"ffmpeg", "-hide_banner", "-loglevel", "error"};
  if (inputs.size() == 1) {
    argv.insert(argv.end(),
                {"-i", "-", "-ss", ffmpeg_seconds(inputs[0].offset), "-t", ffmpeg_seconds(inputs[0].duration)});
  } else {
    // Input options: each pipe is decoded and dropped up to its own offset (a pipe
    // cannot seek), then the concat filter joins the ranges.
    std::string graph;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      argv.insert(argv.end(), {"-ss", ffmpeg_seconds(inputs[i].offset), "-t", ffmpeg_seconds(inputs[i].duration), "-i",
                               pipe_name(i)});
      if (has_video) graph += "[" + std::to_string(i) + ":v:0]";
      if (has_audio) graph += "[" + std::to_string(i) + ":a:0]";
    }
    graph +=
        "concat=n=" + std::to_string(inputs.size()) + ":v=" + (has_video ? "1" : "0") + ":a=" + (has_audio ? "1" : "0");
    graph += has_video ? "[v]" : "";
    graph += has_audio ? "[a]" : "";
    argv.insert(argv.end(), {"-filter_complex", graph});
    if (has_video) argv.insert(argv.end(), {"-map", "[v]"});
    if (has_audio) argv.insert(argv.end(), {"-map", "[a]"});
    // The joined frames as they are: MP4's default (constant rate) would repeat the
    // first frame to fill the time before it.
    argv.insert(argv.end(), {"-fps_mode", "passthrough"});
  }
  add_full_cut_output(argv, type);
  return argv;
}

std::vector<std::string> full_cut_argv(CutType type, const std::vector<FullCutInput>& inputs,
                                       const std::vector<std::optional<Transition>>& joins, bool has_video,
                                       bool has_audio) {
  bool any_transition = false;
  for (const auto& join : joins) any_transition = any_transition || join.has_value();
  if (!any_transition) return full_cut_argv(type, inputs, has_video, has_audio);
  std::vector<std::string> argv = {"ffmpeg", "-hide_banner", "-loglevel", "error"};
  std::string graph;
  // A stream's video and audio pads, `[v][a]`, of those it has.
  auto pads = [&](std::string_view video_pad, std::string_view audio_pad) {
    std::string out;
    for (auto [has, pad] : {std::pair{has_video, video_pad}, std::pair{has_audio, audio_pad}}) {
      if (!has) continue;
      out += '[';
      out += pad;
      out += ']';
    }
    return out;
  };
  // One filter of the graph, written piece by piece.
  auto add = [&](std::initializer_list<std::string_view> pieces) {
    if (!graph.empty()) graph += ';';
    for (std::string_view piece : pieces) graph += piece;
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    argv.insert(argv.end(), {"-ss", ffmpeg_seconds(inputs[i].offset), "-t", ffmpeg_seconds(inputs[i].duration), "-i",
                             pipe_name(i)});
    // xfade wants both of its inputs in one time base, and counts its offset from 0.
    std::string n = std::to_string(i);
    if (has_video) add({"[", n, ":v:0]settb=AVTB,setpts=PTS-STARTPTS[v", n, "]"});
    if (has_audio) add({"[", n, ":a:0]asetpts=PTS-STARTPTS[a", n, "]"});
  }
  // Joined one input at a time onto what came before: `length` is how long that is.
  std::string video = "v0", audio = "a0";
  Micros length = inputs[0].duration;
  for (std::size_t i = 1; i < inputs.size(); ++i) {
    std::string n = std::to_string(i);
    std::string joined_video = "vj" + n, joined_audio = "aj" + n;
    const std::optional<Transition>& join = i - 1 < joins.size() ? joins[i - 1] : std::nullopt;
    if (join) {
      Micros offset = length - join->duration;
      if (has_video) add({"[", video, "][v", n, "]xfade=", xfade_options(*join, offset), "[", joined_video, "]"});
      if (has_audio)
        add({"[", audio, "][a", n, "]acrossfade=d=", ffmpeg_seconds(join->duration), "[", joined_audio, "]"});
      length = offset + inputs[i].duration;
    } else {
      // concat takes each input's streams together: video then audio, input by input.
      add({pads(video, audio), pads("v" + n, "a" + n), "concat=n=2:v=", has_video ? "1" : "0",
           ":a=", has_audio ? "1" : "0", pads(joined_video, joined_audio)});
      length += inputs[i].duration;
    }
    video = joined_video;
    audio = joined_audio;
  }
  argv.insert(argv.end(), {"-filter_complex", graph});
  if (has_video) argv.insert(argv.end(), {"-map", "[" + video + "]"});
  if (has_audio) argv.insert(argv.end(), {"-map", "[" + audio + "]"});
  argv.insert(argv.end(), {"-fps_mode", "passthrough"});
  add_full_cut_output(argv, type);
  return argv;
}

Result<TransitionClip> plan_transition(const std::vector<SegmentOrHole>& from_best, const CutRange& from_window,
                                       const std::vector<SegmentOrHole>& to_best, const CutRange& to_window,
                                       const Transition& transition) {
  TransitionClip clip;
  clip.transition = transition;
  struct Side {
    const std::vector<SegmentOrHole>& best;
    const CutRange& window;
    TransitionInput& input;
    const char* what;
  };
  for (const Side& side :
       {Side{from_best, from_window, clip.from, "out of"}, Side{to_best, to_window, clip.to, "into"}}) {
    auto plan = plan_cut(side.best, side.window, false);
    if (!plan) {
      return make_error("A " + ffmpeg_seconds(transition.duration) + " s " + transition.type + " transition " +
                            side.what + " a range needs video from " + format_time(side.window.start) + " to " +
                            format_time(side.window.end) + ", and there is a hole there",
                        406);
    }
    for (const CutPiece& piece : plan->pieces) side.input.segments.push_back(piece.segment);
    side.input.offset = plan->pieces.front().trim_start.value_or(0);
  }
  return clip;
}

std::vector<std::string> transition_argv(const TransitionClip& clip, const std::string& video_codec, bool has_video,
                                         bool has_audio) {
  const std::string duration = ffmpeg_seconds(clip.transition.duration);
  std::vector<std::string> argv = {"ffmpeg",
                                   "-hide_banner",
                                   "-nostdin",
                                   "-loglevel",
                                   "error",
                                   "-ss",
                                   ffmpeg_seconds(clip.from.offset),
                                   "-t",
                                   duration,
                                   "-i",
                                   "pipe:0",
                                   "-ss",
                                   ffmpeg_seconds(clip.to.offset),
                                   "-t",
                                   duration,
                                   "-i",
                                   "pipe:3"};
  std::string graph;
  if (has_video) {
    graph += "[0:v:0]settb=AVTB,setpts=PTS-STARTPTS[v0];[1:v:0]settb=AVTB,setpts=PTS-STARTPTS[v1];";
    graph += "[v0][v1]xfade=" + xfade_options(clip.transition, 0) + "[v]";
  }
  if (has_audio) {
    if (!graph.empty()) graph += ";";
    graph += "[0:a:0]asetpts=PTS-STARTPTS[a0];[1:a:0]asetpts=PTS-STARTPTS[a1];[a0][a1]acrossfade=d=" + duration + "[a]";
  }
  argv.insert(argv.end(), {"-filter_complex", graph});
  if (has_video) {
    // Joined to copied video: the source's codec, no B-frames (each frame decodes in
    // order after the copied ones), fast.
    argv.insert(argv.end(), {"-map", "[v]", "-c:v", video_codec.empty() ? "libx264" : video_codec, "-preset",
                             "veryfast", "-bf", "0"});
  }
  if (has_audio) argv.insert(argv.end(), {"-map", "[a]", "-c:a", "aac"});
  argv.insert(argv.end(), {"-fps_mode", "passthrough", "-muxdelay", "0", "-muxpreload", "0", "-f", "mpegts", "-"});
  return argv;
}

}  // namespace wubd::core
