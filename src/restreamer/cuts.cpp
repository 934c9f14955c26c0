// GET /cut/<stream>/<variant>.ts: clips of exact time ranges. The plan (which
// segments, where to trim) comes from core::plan_cut; this file carries it out.
#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include "wubd/app/logging.h"
#include "wubd/core/cut_plan.h"
#include "wubd/restreamer/restreamer.h"

namespace wubd::restreamer {

void Restreamer::cut(const core::Route& route, const io::HttpRequest& request, io::HttpResponse& response) {
  if (!store_.variant_exists(route.stream, route.variant)) {
    return response.send_error(404, "no such stream or variant: " + route.stream + "/" + route.variant);
  }
  auto span = core::hours_span(store_.list_hours(route.stream, route.variant));
  std::optional<core::CutRange> available;
  if (span) available = core::CutRange{span->first, span->second};
  auto cut_request = core::parse_cut_request(request.query, available);
  if (!cut_request) return response.send_error(cut_request.error().code, cut_request.error().message);

  core::CutPlan plan;
  std::vector<std::string> paths;
  for (const core::CutRange& range : cut_request->ranges) {
    auto best = store_.best_segments(route.stream, route.variant, range.start, range.end);
    auto part = core::plan_cut(best, range, cut_request->allow_holes);
    if (!part) return response.send_error(part.error().code, part.error().message);
    // Paths now: the store's pointers live only until its next call.
    for (core::CutPiece& piece : part->pieces) {
      paths.push_back(store_.segment_path(route.stream, route.variant, piece.segment->hour,
                                          piece.segment->file_name));
    }
    core::append_plan(plan, std::move(*part));
  }

  if (cut_request->type != core::CutType::Rough) {
    return response.send_error(501, "type=" + std::string(core::to_string(cut_request->type)) +
                                        " is not implemented yet; type=rough is");
  }
  // rough: the covering segments' bytes, whole, back to back. Sizes now, so the body
  // is sized; files are opened one at a time as the client takes them.
  std::vector<io::FileSlice> files;
  files.reserve(paths.size());
  for (std::string& path : paths) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return response.send_error(500, "segment vanished while cutting: " + path);
    }
    files.push_back({std::move(path), std::int64_t(st.st_size)});
  }
  response.add_header("Content-Disposition", "inline; filename=\"" + route.stream + "-" + route.variant + ".ts\"");
  response.send_files(200, "video/mp2t", std::move(files));
}

}  // namespace wubd::restreamer
