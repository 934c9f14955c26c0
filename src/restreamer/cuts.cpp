// GET /cut/<stream>/<variant>.ts: clips of exact time ranges. The plan (which
// segments, where to trim) comes from core::plan_cut; this file carries it out.
#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include "wubd/app/logging.h"
#include "wubd/core/cut_plan.h"
#include "wubd/restreamer/restreamer.h"

#include "fast_cut.h"
#include "full_cut.h"
#include "smart_cut.h"
#include "wubd/io/media_input.h"
#include "wubd/io/timer.h"

namespace wubd::restreamer {
namespace {

// Adds the segment after a smart cut range's last one.
void add_spill_segment(store::SegmentStore& store, const core::Route& route, CutRangeFiles& range) {
  // A segment file's audio leads its video a little, so the audio of a range's last
  // moments is in the next file: the smart cut reads that file's audio up to the end
  // (and its frames tell whether the end cuts a group of pictures).
  const core::SegmentName& last = range.segments.back().name;
  auto next = store.best_segments(route.stream, route.variant, last.end(), last.end() + 1);
  if (next.empty() || !next.front()) return;
  const core::StoredSegment& spill = *next.front();
  if (spill.name.start <= last.start) return;
  range.segments.push_back(spill);
  range.pieces.push_back(core::CutPiece{&range.segments.back(), std::nullopt, std::nullopt});
  range.paths.push_back(store.segment_file(route.stream, route.variant, spill.hour, spill.file_name));
}

}  // namespace


void Restreamer::cut(const core::Route& route, const io::HttpRequest& request, io::HttpResponse& response) {
  if (!store_.variant_exists(route.stream, route.variant)) {
    return response.send_error(404, "no such stream or variant: " + route.stream + "/" + route.variant);
  }
  auto span = core::hours_span(store_.list_hours(route.stream, route.variant));
  std::optional<core::CutRange> available;
  if (span) available = core::CutRange{span->first, span->second};
  auto cut_request = core::parse_cut_request(request.query, available, limits_.cut_cap);
  if (!cut_request) return response.send_error(cut_request.error().code, cut_request.error().message);

  core::CutType type = cut_request->type;
  core::CutPlan plan;
  std::vector<CutRangeFiles> ranges;
  // A full cut's ffmpeg inputs: each range split at its holes into continuous runs.
  std::vector<core::FullCutInput> full_inputs;
  std::vector<std::vector<io::BeneathPath>> full_feeds;
  for (const core::CutRange& range : cut_request->ranges) {
    auto best = store_.best_segments(route.stream, route.variant, range.start, range.end);
    auto part = core::plan_cut(best, range, cut_request->allow_holes);
    if (!part) return response.send_error(part.error().code, part.error().message);
    // Paths and copies now: the store's pointers live only until its next call.
    CutRangeFiles files{{}, part->pieces, {}, range};
    for (core::CutPiece& piece : part->pieces) {
      files.paths.push_back(store_.segment_file(route.stream, route.variant, piece.segment->hour,
                                                piece.segment->file_name));
      if (type == core::CutType::Smart) files.segments.push_back(*piece.segment);
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
              io::is_fragmented_mp4(ranges.front().paths.front());
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
    response.begin_stream(200, type == core::CutType::Mp4 ? "video/mp4" : "video/mp2t");
    response.end();
    return;
  }
  if (type == core::CutType::Mpegts || type == core::CutType::Mp4) {
    if (!admit_cut(response)) return;
    return launch_cut(std::make_unique<FullCut>(loop_, type, std::move(full_feeds), std::move(full_inputs), response,
                                                cut_finished(), fmp4));
  }
  if (type == core::CutType::Smart) {
    if (!admit_cut(response)) return;
    return launch_cut(std::make_unique<SmartCut>(loop_, std::move(ranges), response, cut_finished()));
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

std::function<void()> Restreamer::cut_finished() {
  return [this] { cut_reaper_->start(0, [this] { reap_cuts(); }); };
}

void Restreamer::launch_cut(std::unique_ptr<CutJob> job) {
  CutJob* raw = job.get();
  full_cuts_.push_back(std::move(job));
  raw->start();
}

bool Restreamer::admit_cut(io::HttpResponse& response) {
  std::size_t running = active_full_cuts();
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
  launch_cut(std::make_unique<FastCut>(loop_, std::move(steps), response, cut_finished(), fmp4));
}

std::size_t Restreamer::active_full_cuts() const {
  std::size_t running = 0;
  for (const auto& cut : full_cuts_) running += !cut->finished();
  return running;
}

void Restreamer::reap_cuts() {
  std::erase_if(full_cuts_, [](const std::unique_ptr<CutJob>& cut) { return cut->finished(); });
}

}  // namespace wubd::restreamer
