// The routes wubloader's browser editor (thrimbletrimmer) calls for pictures:
// /frame (the frame shown at an instant), /thumbnail (that frame cropped, scaled and
// laid under a template), /waveform (the audio's amplitude over a range). Parameters
// are checked here, on the loop; decoding, drawing and encoding run in the
// threadpool, bounded (frames and thumbnails wait their turn in a queue, waveforms
// take a cut's slot).
#include <fstream>
#include <sstream>

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "wubd/core/hour_files.h"
#include "wubd/core/picture.h"
#include "wubd/core/time.h"
#include "wubd/log/log.h"
#include "wubd/media/frame_grab.h"
#include "wubd/media/images.h"
#include "wubd/restreamer/restreamer.h"

#include "query_times.h"
#include "waveform_body.h"
#include "work_body.h"

namespace wubd::restreamer {
namespace {

using core::Micros;

constexpr std::string_view kNoContent = "We have no content available within the requested time range.";

std::optional<std::string> param(const core::QueryParams& query, const std::string& name) {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

// A template's defaults, as wubloader keeps them in its database: {"crop": [L, T, R,
// B], "location": [L, T, R, B]} (arrays of integers, or "L,T,R,B" strings).
struct TemplateDefaults {
  std::optional<core::Box> crop;
  std::optional<core::Box> location;
};

core::Result<TemplateDefaults> parse_template_json(const std::string& text, const std::string& file) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(text).get(root)) {
    return core::make_error(file + " is not JSON: " + simdjson::error_message(error));
  }
  TemplateDefaults defaults;
  for (const char* key : {"crop", "location"}) {
    simdjson::dom::element value;
    if (root[key].get(value)) continue;
    std::string box_text;
    if (value.is_string()) {
      box_text = std::string(value.get_string().value());
    } else if (value.is_array()) {
      for (simdjson::dom::element n : value.get_array()) {
        std::int64_t number;
        if (n.get_int64().get(number)) return core::make_error(file + ": " + key + " must hold integers");
        box_text += (box_text.empty() ? "" : ",") + std::to_string(number);
      }
    } else {
      return core::make_error(file + ": " + key + " must be an array of four integers");
    }
    auto box = core::parse_box(box_text, std::string(file) + "'s " + key);
    if (!box) return core::make_error(box.error().message);
    (std::string_view(key) == "crop" ? defaults.crop : defaults.location) = *box;
  }
  return defaults;
}

core::Result<std::string> read_whole_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return core::make_error("cannot read " + path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

bool Restreamer::check_video_variant(const core::Route& route, io::HttpResponse& response) {
  if (core::is_chat_variant(route.variant) || store_.is_extras_dir(route.stream)) {
    response.send_error(404, route.stream + "/" + route.variant + " is not a video variant (chat or extras)");
    return false;
  }
  if (!store_.variant_exists(route.stream, route.variant)) {
    response.send_error(404, "no such stream or variant: " + route.stream + "/" + route.variant);
    return false;
  }
  return true;
}

std::optional<Restreamer::FrameSource> Restreamer::frame_source(const core::Route& route, Micros timestamp,
                                                                io::HttpResponse& response) {
  // As wubloader: a second either side, so an instant on a segment's edge is found.
  auto best = store_.best_segments(route.stream, route.variant, timestamp - core::kMicrosPerSecond,
                                   timestamp + core::kMicrosPerSecond);
  bool any = false;
  for (const core::SegmentOrHole& segment : best) {
    if (!segment) continue;
    any = true;
    if (segment->name.start <= timestamp && timestamp < segment->name.end()) {
      return FrameSource{
          segment,
          store_.segment_file(route.stream, route.variant, std::string(segment->hour), std::string(segment->file_name)),
          timestamp - segment->name.start};
    }
  }
  if (!any) {
    response.send_error(406, kNoContent);
  } else {
    response.send_error(406, "no segment covers " + core::format_time(timestamp) + " (a hole in " + route.stream + "/" +
                                 route.variant + ")");
  }
  return std::nullopt;
}

bool Restreamer::queue_media_job(std::unique_ptr<WorkBody> body, io::HttpResponse& response) {
  WorkBody* waiting = body.get();
  auto ticket = media_jobs_.enqueue([waiting](std::shared_ptr<void> slot) { waiting->ready(std::move(slot)); });
  if (!ticket) {
    response.add_header("Retry-After", "1");
    response.send_error(503, "too many frames and thumbnails being made (" + std::to_string(media_jobs_.running()) +
                                 " running, " + std::to_string(media_jobs_.waiting()) + " waiting); try again shortly");
    return false;
  }
  waiting->hold_place(std::move(*ticket));
  response.send_body(std::move(body));
  return true;
}

void Restreamer::frame(const core::Route& route, const core::QueryParams& query, io::HttpResponse& response) {
  if (!check_video_variant(route, response)) return;
  auto timestamp = required_time(query, "timestamp");
  if (!timestamp) return response.send_error(400, timestamp.error().message);
  auto source = frame_source(route, *timestamp, response);
  if (!source) return;
  media::ImageFormat format = route.extension == "jpg" ? media::ImageFormat::Jpeg : media::ImageFormat::Png;
  std::string type = format == media::ImageFormat::Jpeg ? "image/jpeg" : "image/png";
  // The segment (and its listing) stays held while the frame is made.
  auto work = [source = *source, format, type]() -> core::Result<Reply> {
    auto image = media::frame_image_at(source.path, source.offset, format);
    if (!image) return image.error();
    return Reply{200, type, std::move(*image)};
  };
  queue_media_job(std::make_unique<WorkBody>(loop_, std::move(work)), response);
}

void Restreamer::thumbnail(const core::Route& route, const io::HttpRequest& request, const core::QueryParams& query,
                           io::HttpResponse& response) {
  const bool uploaded = request.method == "POST";
  if (!uploaded && limits_.thumbnail_templates.empty()) {
    return response.send_error(501,
                               "thumbnails from named templates need --thumbnail-templates DIR (wubloader reads "
                               "them from its database); or POST the template PNG with crop and location");
  }
  if (!check_video_variant(route, response)) return;
  auto timestamp = required_time(query, "timestamp");
  if (!timestamp) return response.send_error(400, timestamp.error().message);
  std::optional<core::Box> crop, location;
  for (auto [name, box] : {std::pair{"crop", &crop}, std::pair{"location", &location}}) {
    auto text = param(query, name);
    if (!text) {
      if (uploaded) return response.send_error(400, std::string(name) + " is required with an uploaded template");
      continue;
    }
    auto parsed = core::parse_box(*text, name);
    if (!parsed) return response.send_error(400, parsed.error().message);
    *box = *parsed;
  }
  std::string template_png;
  std::string template_json;
  std::string template_name;
  if (uploaded) {
    if (request.body.empty()) return response.send_error(400, "the template PNG is required as the request body");
    template_png = request.body;
  } else {
    auto name = param(query, "template");
    if (!name) return response.send_error(400, "template is required");
    // Named like a path part: no '/', no leading '.', so it stays in the directory.
    auto checked = core::decode_path_part(core::percent_encode(*name), "template");
    if (!checked) return response.send_error(400, checked.error().message);
    template_name = *checked;
  }
  auto source = frame_source(route, *timestamp, response);
  if (!source) return;
  std::string directory = limits_.thumbnail_templates;
  auto work = [source = *source, crop, location, template_png = std::move(template_png), template_name,
               directory]() mutable -> core::Result<Reply> {
    if (!template_name.empty()) {
      auto png = read_whole_file(directory + "/" + template_name + ".png");
      if (!png) return core::make_error("Template " + template_name + " not found", 404);
      template_png = std::move(*png);
      auto json = read_whole_file(directory + "/" + template_name + ".json");
      if (json) {
        auto defaults = parse_template_json(*json, template_name + ".json");
        if (!defaults) return core::make_error(defaults.error().message, 500);
        if (!crop) crop = defaults->crop;
        if (!location) location = defaults->location;
      }
      if (!crop || !location) {
        return core::make_error("Template " + template_name + " has no default " + (!crop ? "crop" : "location") +
                                    " (" + template_name + ".json): give it as a parameter",
                                400);
      }
    }
    auto templ = media::decode_png(template_png);
    if (!templ) return core::make_error("Bad template: " + templ.error().message, 400);
    auto frame = media::frame_at(source.path, source.offset);
    if (!frame) return frame.error();
    auto scaled = media::scale_picture(core::crop(*frame, *crop), location->width(), location->height());
    if (!scaled) return scaled.error();
    auto png = media::encode_image(core::compose_thumbnail(*templ, *scaled, *location), media::ImageFormat::Png);
    if (!png) return png.error();
    return Reply{200, "image/png", std::move(*png)};
  };
  log::logger(log::Module::Restreamer)
      .info("thumbnail of {}/{} at {} with {}", route.stream, route.variant, core::format_time(*timestamp),
            uploaded ? "an uploaded template" : "template " + template_name);
  queue_media_job(std::make_unique<WorkBody>(loop_, std::move(work)), response);
}

void Restreamer::waveform(const core::Route& route, const core::QueryParams& query, io::HttpResponse& response) {
  if (!check_video_variant(route, response)) return;
  auto start = required_time(query, "start");
  if (!start) return response.send_error(400, start.error().message);
  auto end = required_time(query, "end");
  if (!end) return response.send_error(400, end.error().message);
  if (*end <= *start) return response.send_error(400, "End must be after start");
  if (*end - *start > 6 * core::kMicrosPerHour) return response.send_error(400, "Range may not be longer than 6 hours");
  auto size = core::parse_image_size(param(query, "size").value_or("1024x64"));
  if (!size) return response.send_error(400, size.error().message);
  auto [width, height] = *size;

  std::string key = route.stream + '/' + route.variant + '/' + std::to_string(*start) + '/' + std::to_string(*end) +
                    '/' + std::to_string(width) + 'x' + std::to_string(height);
  std::uint64_t version = store_.range_version(route.stream, route.variant, *start, *end);
  if (auto cached = waveform_cache_->find(key, version)) return response.send_shared(200, "image/png", cached);

  std::vector<media::AudioSegment> segments;
  for (const core::SegmentOrHole& segment : store_.best_segments(route.stream, route.variant, *start, *end)) {
    if (!segment) continue;
    segments.push_back(
        {store_.segment_file(route.stream, route.variant, std::string(segment->hour), std::string(segment->file_name)),
         segment->name.start});
  }
  if (segments.empty()) return response.send_error(406, kNoContent);
  if (!admit_cut(response)) return;

  WaveformBody::Plan plan;
  plan.start = *start;
  plan.end = *end;
  plan.width = width;
  plan.height = height;
  // Decoding every audio frame of hours costs seconds; a column of a long range spans
  // seconds, so one frame in `stride` still finds its loud and quiet parts. Up to
  // kFramesToDecode frames (about 13 minutes of 48 kHz audio) are all decoded.
  constexpr std::size_t kFramesToDecode = 36'000;
  constexpr std::size_t kFramesPerSegment = 94;  // 2 s of 48 kHz AAC
  plan.stride = int((segments.size() * kFramesPerSegment + kFramesToDecode - 1) / kFramesToDecode);
  // Read in up to four runs at once (the threadpool's other users keep the rest).
  constexpr std::size_t kRuns = 4;
  std::size_t per_run = (segments.size() + kRuns - 1) / kRuns;
  for (std::size_t i = 0; i < segments.size(); i += per_run) {
    plan.runs.emplace_back(segments.begin() + std::ptrdiff_t(i),
                           segments.begin() + std::ptrdiff_t(std::min(segments.size(), i + per_run)));
  }
  auto slot = std::make_shared<CutSlots::Slot>(cut_slots_.take());
  // The picture is kept while the range's listings stay as they were (hours that no
  // longer change; a live hour's next segment makes a new one).
  auto done = [cache = waveform_cache_, key, version](std::shared_ptr<const std::string> png) {
    cache->insert(key, version, std::move(png));
  };
  response.send_body(std::make_unique<WaveformBody>(loop_, std::move(plan), std::move(slot), std::move(done)));
}

}  // namespace wubd::restreamer
