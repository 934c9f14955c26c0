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
  static const std::pair<const char*, CutType> kTypes[] = {{"rough", CutType::Rough},
                                                           {"fast", CutType::Fast},
                                                           {"smart", CutType::Smart},
                                                           {"mpegts", CutType::Mpegts},
                                                           {"mp4", CutType::Mp4}};
  for (const auto& [name, type] : kTypes) {
    if (text == name) return type;
  }
  return make_error("Bad type \"" + text + "\": use rough, fast, smart, mpegts or mp4", 400);
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
  }
  return "?";
}

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
  Micros total = 0;
  for (const CutRange& range : request.ranges) {
    if (range.end <= range.start) {
      return make_error("End must be after start (" + format_time(range.start) + " to " + format_time(range.end) + ")",
                        400);
    }
    total += range.span();  // each at most 10,000 years: no overflow for the ranges a URL holds
  }
  if (auto error = check_range_cap(total, cap)) return *error;
  if (auto it = params->find("allow_holes"); it != params->end()) {
    std::string value = lower(it->second);
    if (value != "true" && value != "false") return make_error("allow_holes must be one of: true, false", 400);
    request.allow_holes = value == "true";
  }
  if (auto it = params->find("type"); it != params->end()) {
    auto type = parse_cut_type(it->second);
    if (!type) return type.error();
    request.type = *type;
  } else if (auto exp = params->find("experimental"); exp != params->end() && lower(exp->second) == "true") {
    request.type = CutType::Fast;  // wubloader's name for it
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
      std::string pipe = i == 0 ? "pipe:0" : "pipe:" + std::to_string(i + 2);
      argv.insert(argv.end(),
                  {"-ss", ffmpeg_seconds(inputs[i].offset), "-t", ffmpeg_seconds(inputs[i].duration), "-i", pipe});
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
  argv.insert(argv.end(), {"-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac"});
  if (type == CutType::Mp4) {
    // Fragmented, so it streams: no seeking back to write the index.
    argv.insert(argv.end(), {"-movflags", "frag_keyframe+empty_moov+default_base_moof", "-f", "mp4", "-"});
  } else {
    argv.insert(argv.end(), {"-f", "mpegts", "-"});
  }
  return argv;
}

}  // namespace wubd::core
