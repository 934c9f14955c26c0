// GET /cut/<stream>/<variant>.ts: clips of exact time ranges. The plan (which
// segments, where to trim) comes from core::plan_cut; this file carries it out.
#include <sys/stat.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "wubd/core/cut_plan.h"
#include "wubd/core/hour_files.h"
#include "wubd/log/log.h"
#include "wubd/restreamer/restreamer.h"

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
  core::CutPlan plan;
  std::vector<CutRangeFiles> ranges;
  // A full cut's ffmpeg inputs: each range split at its holes into continuous runs.
  std::vector<core::FullCutInput> full_inputs;
  std::vector<std::vector<io::BeneathPath>> full_feeds;
  for (const core::CutRange& range : cut_request->ranges) {
    auto best = store_.best_segments(route.stream, route.variant, range.start, range.end);
    auto part = core::plan_cut(best, range, cut_request->allow_holes);
    if (!part) return response.send_error(part.error().code, part.error().message);
    // Each piece keeps its segment (and that segment's hour listing) alive.
    CutRangeFiles files{part->pieces, {}, range};
    for (core::CutPiece& piece : part->pieces) {
      files.paths.push_back(store_.segment_file(route.stream, route.variant, std::string(piece.segment->hour),
                                                std::string(piece.segment->file_name)));
    }
    if (type == core::CutType::Smart) add_spill_segment(store_, route, files);
    for (const core::FullCutInput& run : core::full_cut_runs(part->pieces)) full_inputs.push_back(run);
    for (std::size_t i = 0; i < part->pieces.size(); ++i) {
      if (i == 0 || part->pieces[i].after_hole) full_feeds.emplace_back();
      full_feeds.back().push_back(files.paths[i]);
    }
    ranges.push_back(std::move(files));
    core::append_plan(plan, std::move(*part));
  }

  // An fMP4 rendition's files (init + fragment each) are read as MPEG-TS remuxed from
  // them, file by file, their timestamps joined: a peek at the first file's first box.
  bool fmp4 = type != core::CutType::Rough && !ranges.empty() && !ranges.front().paths.empty() &&
              media::is_fragmented_mp4(ranges.front().paths.front());
  if (fmp4 && type == core::CutType::Smart) {
    return response.send_error(501, "smart cuts need MPEG-TS segments, and " + route.stream + "/" + route.variant +
                                        " is fragmented MP4: use type=rough, fast, mpegts or mp4");
  }
  std::string extension = type == core::CutType::Mp4 ? ".mp4" : ".ts";
  response.add_header("Content-Disposition",
                      "inline; filename=\"" + route.stream + "-" + route.variant + extension + "\"");
  if (request.is_head() && type != core::CutType::Rough) {
    // The headers a GET would get, and nothing started: no encoder, no child, no slot.
    if (!admit_cut(response)) return;
    std::string content_type = type == core::CutType::Mp4 ? "video/mp4" : "video/mp2t";
    response.send_body(io::make_body(
        {[content_type](io::BodyWriter& out) { out.begin(200, content_type, std::nullopt); }, {}, {}, false}));
    return;
  }
  if (type == core::CutType::Mpegts || type == core::CutType::Mp4) {
    if (!admit_cut(response)) return;
    return response.send_body(
        std::make_unique<FullCut>(loop_, cut_slots_.take(), type, std::move(full_feeds), std::move(full_inputs), fmp4));
  }
  if (type == core::CutType::Smart) {
    if (!admit_cut(response)) return;
    return response.send_body(std::make_unique<SmartCut>(loop_, cut_slots_.take(), std::move(ranges)));
  }
  // Rough and fast take the ranges' pieces back to back, as `plan` holds them.
  std::vector<io::BeneathPath> paths;
  std::vector<bool> new_parts;  // where the source's timestamps jump: a later range, a hole
  for (std::size_t r = 0; r < ranges.size(); ++r) {
    for (std::size_t i = 0; i < ranges[r].paths.size(); ++i) {
      paths.push_back(std::move(ranges[r].paths[i]));
      new_parts.push_back((r > 0 && i == 0) || ranges[r].pieces[i].after_hole);
    }
  }
  if (type == core::CutType::Fast) {
    if (fmp4) new_parts.assign(new_parts.size(), true);  // every remuxed file is its own part, joined on
    return fast_cut(std::move(paths), std::move(new_parts), plan, response, fmp4);
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

void Restreamer::fast_cut(std::vector<io::BeneathPath> paths, std::vector<bool> new_parts, const core::CutPlan& plan,
                          io::HttpResponse& response, bool fmp4) {
  if (!admit_cut(response)) return;
  std::vector<FastCutStep> steps;
  for (std::size_t i = 0; i < plan.pieces.size(); ++i) {
    steps.push_back({std::move(paths[i]), plan.pieces[i].trim_start, plan.pieces[i].trim_end, new_parts[i]});
  }
  response.send_body(std::make_unique<FastCut>(loop_, cut_slots_.take(), std::move(steps), fmp4));
}

std::size_t Restreamer::active_full_cuts() const { return cut_slots_.running(); }

}  // namespace wubd::restreamer
