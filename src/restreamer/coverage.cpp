// GET /coverage/<stream>/<variant>.json|.png|.svg?start&end: what the archive holds of
// a variant over a range (core/coverage.h), by default the newest day, as JSON or as
// the coverage map wubloader's segment_coverage draws. The hours' listings are taken
// as the store has them, on the loop (no directory is read there); whatever listing
// is not made yet (hours older than the index lists), and the figures and the picture,
// are made in the threadpool.
#include <cJSON.h>

#include "wubd/core/coverage.h"
#include "wubd/core/coverage_map.h"
#include "wubd/core/hour_files.h"
#include "wubd/io/clock.h"
#include "wubd/io/json_text.h"
#include "wubd/media/images.h"
#include "wubd/restreamer/restreamer.h"

#include "query_times.h"
#include "work_body.h"

namespace wubd::restreamer {
namespace {

using core::Micros;

constexpr Micros kDay = 24 * core::kMicrosPerHour;
constexpr Micros kMaxSpan = 31 * kDay;

double seconds(Micros t) { return double(t) / double(core::kMicrosPerSecond); }

cJSON* span_json(Micros start, Micros end) {
  cJSON* item = cJSON_CreateObject();
  cJSON_AddStringToObject(item, "start", core::format_time(start).c_str());
  cJSON_AddStringToObject(item, "end", core::format_time(end).c_str());
  cJSON_AddNumberToObject(item, "seconds", seconds(end - start));
  return item;
}

cJSON* figures_json(const core::TypeFigures& figures) {
  cJSON* item = cJSON_CreateObject();
  cJSON_AddNumberToObject(item, "count", double(figures.count));
  cJSON_AddNumberToObject(item, "seconds", seconds(figures.duration));
  return item;
}

std::string coverage_json(const std::string& stream, const std::string& variant, const core::Coverage& coverage) {
  cJSON* root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "stream", stream.c_str());
  cJSON_AddStringToObject(root, "variant", variant.c_str());
  cJSON_AddStringToObject(root, "start", core::format_time(coverage.range.start).c_str());
  cJSON_AddStringToObject(root, "end", core::format_time(coverage.range.end).c_str());
  cJSON* runs = cJSON_AddArrayToObject(root, "runs");
  for (const core::CoverageRun& run : coverage.runs) {
    cJSON* item = span_json(run.start, run.end);
    cJSON_AddNumberToObject(item, "segments", double(run.segments));
    cJSON_AddItemToArray(runs, item);
  }
  cJSON* holes = cJSON_AddArrayToObject(root, "holes");
  for (const core::CoverageSpan& hole : coverage.holes) cJSON_AddItemToArray(holes, span_json(hole.start, hole.end));
  cJSON* incomplete = cJSON_AddArrayToObject(root, "incomplete");
  for (const core::IncompleteSpan& span : coverage.incomplete) {
    cJSON* item = span_json(span.start, span.end);
    cJSON_AddStringToObject(item, "type", std::string(core::to_string(span.type)).c_str());
    cJSON_AddItemToArray(incomplete, item);
  }
  cJSON* hours = cJSON_AddArrayToObject(root, "hours");
  for (const core::HourCoverage& hour : coverage.hours) {
    cJSON* item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "hour", core::format_hour(hour.hour).c_str());
    cJSON* segments = cJSON_AddObjectToObject(item, "segments");
    cJSON_AddItemToObject(segments, "full", figures_json(hour.full));
    cJSON_AddItemToObject(segments, "suspect", figures_json(hour.suspect));
    cJSON_AddItemToObject(segments, "partial", figures_json(hour.partial));
    cJSON_AddItemToObject(item, "overlaps", figures_json(hour.overlaps));
    cJSON_AddNumberToObject(item, "covered_seconds", seconds(hour.covered));
    cJSON_AddNumberToObject(item, "holes", double(hour.holes));
    cJSON_AddNumberToObject(item, "hole_seconds", seconds(hour.hole_duration));
    cJSON_AddItemToArray(hours, item);
  }
  return io::take_json_text(root);
}

}  // namespace

void Restreamer::coverage(const core::Route& route, const core::QueryParams& query, io::HttpResponse& response) {
  if (!check_video_variant(route, response)) return;
  auto params = range_params(query);
  if (!params) return response.send_error(400, params.error().message);
  core::TimeRange range;
  if (params->start && params->end) {
    range = {*params->start, *params->end};
  } else if (params->start) {
    range = {*params->start, *params->start + kDay};
  } else if (params->end) {
    range = {*params->end - kDay, *params->end};
  } else {
    // The newest day: to the end of the newest hour, or to now if that is sooner
    // (the rest of the hour has not happened yet).
    auto span = core::hours_span(store_.list_hours(route.stream, route.variant));
    if (!span) return response.send_error(404, "no segments for " + route.stream + "/" + route.variant);
    Micros now = io::wall_clock_now();
    Micros end = span->second;
    if (now > span->first && now < end) end = now - now % (2 * core::kMicrosPerSecond) + 2 * core::kMicrosPerSecond;
    range = {end - kDay, end};
  }
  if (range.end <= range.start) return response.send_error(400, "End must be after start");
  if (range.span() > kMaxSpan) return response.send_error(400, "Range may not be longer than 31 days");

  std::vector<store::SegmentStore::HourSource> sources =
      store_.hour_sources(route.stream, route.variant, range.start, range.end);
  auto base = store_.base_descriptor();
  std::string extension = route.extension;
  auto work = [sources = std::move(sources), base, range, extension, stream = route.stream,
               variant = route.variant]() -> core::Result<Reply> {
    std::map<Micros, std::shared_ptr<const core::HourListing>> listings;
    std::vector<Micros> hours;
    for (const store::SegmentStore::HourSource& source : sources) {
      listings[source.start] = store::SegmentStore::listing_of(base ? base->get() : -1, source);
      hours.push_back(source.start);
    }
    core::HourLookup lookup = [&listings](Micros hour) -> std::shared_ptr<const core::HourListing> {
      auto it = listings.find(hour);
      return it == listings.end() ? nullptr : it->second;
    };
    core::Coverage coverage = core::compute_coverage(lookup, hours, range);
    if (extension == "json") return Reply{200, "application/json", coverage_json(stream, variant, coverage)};
    core::CoverageMapLayout layout = core::coverage_map_layout(range);
    if (extension == "svg") return Reply{200, "image/svg+xml", core::coverage_map_svg(coverage, layout)};
    auto png = media::encode_image(core::draw_coverage_map(coverage, layout), media::ImageFormat::Png);
    if (!png) return png.error();
    return Reply{200, "image/png", std::move(*png)};
  };
  response.add_header("Cache-Control", "no-cache");
  response.send_body(std::make_unique<WorkBody>(loop_, std::move(work)));
}

}  // namespace wubd::restreamer
