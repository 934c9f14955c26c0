// GET /cut/<stream>/<variant>.ts: clips of exact time ranges. The plan (which
// segments, where to trim) comes from core::plan_cut; this file carries it out.
#include <sys/stat.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "wubd/core/cut_plan.h"
#include "wubd/core/hour_files.h"
#include "wubd/log/log.h"
#include "wubd/restreamer/restreamer.h"

#include "clip_body.h"
#include "fast_cut.h"
#include "full_cut.h"
#include "smart_cut.h"
#include "wubd/media/media_input.h"

namespace wubd::restreamer {
namespace {

// Adds the segment after a smart cut range's last one.
void add_spill_segment(store::SegmentStore& store, const core::Route& route, CutRangeFiles& range) {
  // A segment file's audio leads its video a little, so the audio of a range's last
  // moments is in the next file: the smart cut reads that file's audio up to the end
  // (and its frames tell whether the end cuts a group of pictures).
  const core::SegmentNameView& last = range.pieces.back().segment->name;
  auto next = store.best_segments(route.stream, route.variant, last.end(), last.end() + 1);
  if (next.empty() || !next.front()) return;
  const core::SegmentRef& spill = next.front();
  if (spill->name.start <= last.start) return;
  range.pieces.push_back(core::CutPiece{spill, std::nullopt, std::nullopt});
  range.paths.push_back(
      store.segment_file(route.stream, route.variant, std::string(spill->hour), std::string(spill->file_name)));
}

}  // namespace

std::string Restreamer::clip_key(const core::Route& route, const core::CutRequest& request) {
  // The clip's inputs as they are now: a range whose listings change (a live hour)
  // makes another clip.
  std::string key = route.stream + '/' + route.variant + (request.allow_holes ? "/holes" : "");
  for (std::size_t i = 0; i < request.ranges.size(); ++i) {
    const core::CutRange& range = request.ranges[i];
    key += '/' + std::to_string(range.start) + '-' + std::to_string(range.end) + '@' +
           std::to_string(store_.range_version(route.stream, route.variant, range.start, range.end));
    if (i < request.transitions.size() && request.transitions[i]) {
      key += '/' + request.transitions[i]->type + ',' + std::to_string(request.transitions[i]->duration);
    }
  }
  return key;
}

// Over 100 lines on purpose: /cut's parameters checked in wubloader's order, each with
// its own 400 text; to be split into a parsed-request value and the dispatch.
// NOLINTNEXTLINE(readability-function-size)
void Restreamer::cut(const core::Route& route, const io::HttpRequest& request, io::HttpResponse& response) {
  if (core::is_chat_variant(route.variant) || store_.is_extras_dir(route.stream)) {
    return response.send_error(404, route.stream + "/" + route.variant + " is not a video variant (chat or extras)");
  }
  if (!store_.variant_exists(route.stream, route.variant)) {
    return response.send_error(404, "no such stream or variant: " + route.stream + "/" + route.variant);
  }
  auto span = core::hours_span(store_.list_hours(route.stream, route.variant));
  std::optional<core::CutRange> available;
  if (span) available = core::CutRange{span->first, span->second};
  auto cut_request = core::parse_cut_request(request.query, available, limits_.cut_cap);
  if (!cut_request) return response.send_error(cut_request.error().code, cut_request.error().message);

  core::CutType type = cut_request->type;
  auto query = core::parse_query(request.query);
  if (!query) return response.send_error(400, query.error().message);
  const bool seekable = route.extension == "mp4";
  if (seekable) {
    if (query->count("type") && type != core::CutType::Mp4) {
      return response.send_error(400, "/cut/" + route.stream + "/" + route.variant +
                                          ".mp4 makes an MP4 clip a browser can seek in: leave type out (or use "
                                          "type=mp4); other types are under .ts");
    }
    type = core::CutType::Mp4;
  }
  bool download = false;
  if (auto it = query->find("download"); it != query->end()) {
    if (it->second != "true" && it->second != "false") {
      return response.send_error(400, "download must be one of: true, false");
    }
    download = it->second == "true";
  }
  if (range_holds_ && !cut_request->ranges.empty()) {
    // Held from now until the body is gone, so retention deletes no file this cut reads.
    core::TimeRange span{cut_request->ranges.front().start, cut_request->ranges.front().end};
    for (const core::CutRange& range : cut_request->ranges) {
      span.start = std::min(span.start, range.start);
      span.end = std::max(span.end, range.end);
    }
    // The covering segments reach a segment's length beyond each end.
    constexpr core::Micros kSegmentReach = 60 * core::kMicrosPerSecond;
    span.start -= kSegmentReach;
    span.end += kSegmentReach;
    response.keep_while_sending(range_holds_->hold_while_cutting({route.stream, span}));
  }
  // Fast and smart cuts make a transition apart, from the ends of the ranges it joins,
  // and cut those ranges short by it; full cuts join the ranges in one ffmpeg graph;
  // rough cuts ignore transitions (as wubloader's: they are source footage).
  const bool transitions_apart = (type == core::CutType::Fast || type == core::CutType::Smart) &&
                                 std::any_of(cut_request->transitions.begin(), cut_request->transitions.end(),
                                             [](const auto& t) { return t.has_value(); });
  auto file_of = [&](const core::SegmentRef& segment) {
    return store_.segment_file(route.stream, route.variant, std::string(segment->hour),
                               std::string(segment->file_name));
  };
  core::CutPlan plan;
  std::vector<CutRangeFiles> ranges;
  // A full cut's ffmpeg inputs: each range split at its holes into continuous runs,
  // and how each run joins the next (a transition where ranges meet).
  std::vector<core::FullCutInput> full_inputs;
  std::vector<std::vector<io::BeneathPath>> full_feeds;
  std::vector<std::optional<core::Transition>> full_joins;
  for (std::size_t r = 0; r < cut_request->ranges.size(); ++r) {
    core::CutRange range = cut_request->ranges[r];
    if (transitions_apart)
      range = {range.start + cut_request->transition_in(r), range.end - cut_request->transition_out(r)};
    auto best = store_.best_segments(route.stream, route.variant, range.start, range.end);
    auto part = core::plan_cut(best, range, cut_request->allow_holes);
    if (!part) return response.send_error(part.error().code, part.error().message);
    // Each piece keeps its segment (and that segment's hour listing) alive.
    CutRangeFiles files{part->pieces, {}, range};
    for (core::CutPiece& piece : part->pieces) files.paths.push_back(file_of(piece.segment));
    if (type == core::CutType::Smart) add_spill_segment(store_, route, files);
    std::vector<core::FullCutInput> runs = core::full_cut_runs(part->pieces);
    for (std::size_t k = 0; k < runs.size(); ++k) {
      // Runs of one range (split by holes) join back to back; where ranges meet, by
      // their transition.
      if (!full_inputs.empty()) full_joins.push_back(k == 0 && r > 0 ? cut_request->transitions[r - 1] : std::nullopt);
      full_inputs.push_back(runs[k]);
    }
    for (std::size_t i = 0; i < part->pieces.size(); ++i) {
      if (i == 0 || part->pieces[i].after_hole) full_feeds.emplace_back();
      full_feeds.back().push_back(files.paths[i]);
    }
    ranges.push_back(std::move(files));
    core::append_plan(plan, std::move(*part));
  }
  std::vector<std::optional<TransitionFiles>> transitions(ranges.size() - 1);
  for (std::size_t j = 0; transitions_apart && j < transitions.size(); ++j) {
    const std::optional<core::Transition>& transition = cut_request->transitions[j];
    if (!transition) continue;
    core::CutRange from{cut_request->ranges[j].end - transition->duration, cut_request->ranges[j].end};
    core::CutRange to{cut_request->ranges[j + 1].start, cut_request->ranges[j + 1].start + transition->duration};
    auto clip =
        core::plan_transition(store_.best_segments(route.stream, route.variant, from.start, from.end), from,
                              store_.best_segments(route.stream, route.variant, to.start, to.end), to, *transition);
    if (!clip) return response.send_error(clip.error().code, clip.error().message);
    TransitionFiles files{std::move(*clip), {}, {}};
    for (const core::SegmentRef& segment : files.clip.from.segments) files.from.push_back(file_of(segment));
    for (const core::SegmentRef& segment : files.clip.to.segments) files.to.push_back(file_of(segment));
    transitions[j] = std::move(files);
  }

  // An fMP4 rendition's files (init + fragment each) are read as MPEG-TS remuxed from
  // them, file by file, their timestamps joined: a peek at the first file's first box.
  bool fmp4 = type != core::CutType::Rough && !ranges.empty() && !ranges.front().paths.empty() &&
              media::is_fragmented_mp4(ranges.front().paths.front());
  if (fmp4 && type == core::CutType::Smart) {
    return response.send_error(501, "smart cuts need MPEG-TS segments, and " + route.stream + "/" + route.variant +
                                        " is fragmented MP4: use type=rough, fast, mpegts or mp4");
  }
  if (fmp4 && transitions_apart) {
    return response.send_error(501, "transitions in fast cuts need MPEG-TS segments, and " + route.stream + "/" +
                                        route.variant + " is fragmented MP4: use type=mpegts or mp4");
  }
  std::string extension = type == core::CutType::Mp4 ? ".mp4" : type == core::CutType::Webm ? ".webm" : ".ts";
  // download=true: the browser saves the clip instead of showing it.
  response.add_header("Content-Disposition", std::string(download ? "attachment" : "inline") + "; filename=\"" +
                                                 route.stream + "-" + route.variant + extension + "\"");
  if (seekable) {
    // Made once into the cut cache, then sent from there with byte ranges.
    std::string key = clip_key(route, *cut_request);
    if (!cut_cache_->has(key) && !admit_cut(response)) return;
    io::BeneathPath probe = full_feeds.front().front();
    auto recipe = [this, probe, feeds = std::move(full_feeds), inputs = std::move(full_inputs),
                   joins = std::move(full_joins)]() {
      return CutCache::Recipe{probe,
                              [inputs, joins](bool has_video, bool has_audio) {
                                return core::seekable_mp4_argv(inputs, joins, has_video, has_audio);
                              },
                              feeds, std::make_shared<CutSlots::Slot>(cut_slots_.take())};
    };
    std::optional<std::string> range;
    // If-Range: clips carry no validator, so one given means the whole clip.
    if (const std::string* header = request.header("range"); header && !request.header("if-range")) range = *header;
    return response.send_body(
        std::make_unique<ClipBody>(loop_, cut_cache_, std::move(key), std::move(recipe), std::move(range)));
  }
  if (request.is_head() && type != core::CutType::Rough) {
    // The headers a GET would get, and nothing started: no encoder, no child, no slot.
    if (!admit_cut(response)) return;
    std::string content_type(core::cut_content_type(type));
    response.send_body(io::make_body(
        {[content_type](io::BodyWriter& out) { out.begin(200, content_type, std::nullopt); }, {}, {}, false}));
    return;
  }
  if (core::is_full_cut(type)) {
    if (!admit_cut(response)) return;
    return response.send_body(std::make_unique<FullCut>(loop_, cut_slots_.take(), type, std::move(full_feeds),
                                                        std::move(full_inputs), std::move(full_joins), fmp4));
  }
  if (type == core::CutType::Smart) {
    if (!admit_cut(response)) return;
    return response.send_body(
        std::make_unique<SmartCut>(loop_, cut_slots_.take(), std::move(ranges), std::move(transitions)));
  }
  // Rough and fast take the ranges' pieces back to back, as `plan` holds them (fast
  // with its transitions between them).
  std::vector<io::BeneathPath> paths;
  std::vector<bool> new_parts;                // where the source's timestamps jump: a later range, a hole
  std::vector<std::size_t> transition_after;  // per piece: the transition following it, or npos
  for (std::size_t r = 0; r < ranges.size(); ++r) {
    for (std::size_t i = 0; i < ranges[r].paths.size(); ++i) {
      paths.push_back(std::move(ranges[r].paths[i]));
      new_parts.push_back((r > 0 && i == 0) || ranges[r].pieces[i].after_hole);
      bool last = i + 1 == ranges[r].paths.size();
      transition_after.push_back(last && r < transitions.size() && transitions[r] ? r : std::string::npos);
    }
  }
  if (type == core::CutType::Fast) {
    if (!admit_cut(response)) return;
    if (fmp4) new_parts.assign(new_parts.size(), true);  // every remuxed file is its own part, joined on
    std::vector<FastCutStep> steps;
    for (std::size_t i = 0; i < plan.pieces.size(); ++i) {
      steps.push_back(
          {std::nullopt, std::move(paths[i]), plan.pieces[i].trim_start, plan.pieces[i].trim_end, new_parts[i]});
      if (transition_after[i] != std::string::npos) {
        steps.push_back({std::move(transitions[transition_after[i]]), {}, std::nullopt, std::nullopt, true});
      }
    }
    return response.send_body(std::make_unique<FastCut>(loop_, cut_slots_.take(), std::move(steps), fmp4));
  }
  // rough: the covering segments' bytes, whole, back to back. Sizes now, so the body
  // is sized; files are opened one at a time as the client takes them.
  std::vector<io::FileSlice> files;
  files.reserve(paths.size());
  for (io::BeneathPath& path : paths) {
    struct stat st {};
    if (io::stat_beneath(path.dir_fd, path.relative, st) != 0) {
      return response.send_error(500, "segment vanished while cutting: " + path.display);
    }
    files.push_back({std::move(path), std::int64_t(st.st_size)});
  }
  response.send_files(200, "video/mp2t", std::move(files));
}

bool Restreamer::admit_cut(io::HttpResponse& response) {
  std::size_t running = cut_slots_.running();
  if (running < limits_.max_full_cuts) return true;
  response.add_header("Retry-After", "5");
  response.send_error(503, "too many cuts running (" + std::to_string(running) + "); try again shortly");
  return false;
}

std::size_t Restreamer::active_full_cuts() const { return cut_slots_.running(); }

}  // namespace wubd::restreamer
