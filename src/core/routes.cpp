#include "wubd/core/routes.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <vector>

#include <simdjson.h>

#include "wubd/core/url.h"

namespace wubd::core {
namespace {

Error not_found(std::string_view path) { return make_error("no such endpoint: " + std::string(path), 404); }

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  path.remove_prefix(1);  // the leading '/'
  while (true) {
    size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

// Strips a required suffix (".m3u8", ".ts") from a raw part before decoding it.
bool strip_suffix(std::string_view& raw, std::string_view suffix) {
  if (raw.size() < suffix.size() || raw.substr(raw.size() - suffix.size()) != suffix) return false;
  raw.remove_suffix(suffix.size());
  return true;
}

// The path parts after the family name, in the order every route uses them.
struct PartSpec {
  std::string_view what;
  std::string Route::*field;
};
constexpr PartSpec kAllParts[] = {
    {"stream", &Route::stream}, {"variant", &Route::variant}, {"hour", &Route::hour}, {"file", &Route::file}};

// Decodes parts[1..] into the route's fields named by `specs`; the first bad part wins.
std::optional<Error> decode_parts(const std::vector<std::string_view>& parts, const std::vector<PartSpec>& specs,
                                  Route& route) {
  for (size_t i = 0; i < specs.size(); ++i) {
    auto part = decode_path_part(parts[i + 1], specs[i].what);
    if (!part) return part.error();
    route.*specs[i].field = std::move(*part);
  }
  return std::nullopt;
}

}  // namespace

std::string_view endpoint_label(RouteKind kind) {
  switch (kind) {
    case RouteKind::Index:
      return "index";
    case RouteKind::ListStreams:
    case RouteKind::ListVariants:
    case RouteKind::ListHours:
    case RouteKind::ListSegments:
      return "files";
    case RouteKind::MasterPlaylist:
      return "playlist_master";
    case RouteKind::MediaPlaylist:
      return "playlist_media";
    case RouteKind::Segment:
    case RouteKind::File:
      return "segments";
    case RouteKind::ListExtras:
      return "extras";
    case RouteKind::Cut:
      return "cut";
    case RouteKind::Metrics:
      return "metrics";
    case RouteKind::Jobs:
      return "jobs";
    case RouteKind::Waveform:
      return "waveform";
    case RouteKind::Frame:
      return "frame";
    case RouteKind::Thumbnail:
      return "thumbnail";
    case RouteKind::Chat:
      return "chat";
    case RouteKind::GenerateVideos:
      return "generate_videos";
    case RouteKind::Coverage:
      return "coverage";
    case RouteKind::Ui:
      return "ui";
  }
  return "other";
}

Result<std::string> decode_path_part(std::string_view raw, std::string_view what) {
  auto decoded = percent_decode(raw);
  if (!decoded) return make_error("Bad " + std::string(what) + ": " + decoded.error().message, 400);
  const std::string& part = *decoded;
  std::string prefix = "Bad " + std::string(what) + ": ";
  if (part.empty()) return make_error(prefix + "may not be empty", 403);
  // A leading '.' refuses both hidden files and path traversal ("..").
  if (part[0] == '.') return make_error(prefix + "may not start with a period", 403);
  if (part.find('/') != std::string::npos) return make_error(prefix + "may not contain '/'", 403);
  if (part.find('\0') != std::string::npos) return make_error(prefix + "may not contain NUL", 403);
  // Names on disk and in listings are UTF-8 (JSON carries them): bytes that are not
  // name nothing here, and would be mangled in every listing that echoed them.
  if (!simdjson::validate_utf8(part)) return make_error(prefix + "is not valid UTF-8", 403);
  return decoded;
}

Result<std::vector<std::string>> split_relative_path(std::string_view path, std::size_t max_parts) {
  std::vector<std::string> parts;
  while (true) {
    std::size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (part.empty()) return make_error("bad path \"" + std::string(path) + "\": an empty part");
    if (part[0] == '.') return make_error("bad path part \"" + std::string(part) + "\": starts with a period");
    if (part.find('\0') != std::string_view::npos) return make_error("bad path: a part contains NUL");
    parts.emplace_back(part);
    if (parts.size() > max_parts) return make_error("bad path: more than " + std::to_string(max_parts) + " parts");
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

namespace {

Result<Route> route_by_arity(std::string_view path);

}  // namespace

Result<Route> route_path(std::string_view path) {
  auto route = route_by_arity(path);
  if (route || route.error().code != 404 || path.empty() || path[0] != '/') return route;
  // A route is judged by its parts before its arity: a `..` (or another bad part)
  // anywhere under a known family is 403, not 404, whatever the number of parts.
  std::vector<std::string_view> parts = split_path(path);
  static constexpr std::string_view kFamilies[] = {"files",  "playlist",  "segments",       "cut",
                                                   "extras", "metrics",   "jobs",           "waveform",
                                                   "frame",  "thumbnail", "generate_videos"};
  if (std::find(std::begin(kFamilies), std::end(kFamilies), parts[0]) == std::end(kFamilies)) return route;
  for (size_t i = 1; i < parts.size(); ++i) {
    if (auto part = decode_path_part(parts[i], "path part"); !part) return part.error();
  }
  return route;
}

namespace {

// Over 100 lines on purpose: the route table, by number of path parts: every route of
// the README's API table in one place.
// NOLINTNEXTLINE(readability-function-size)
Result<Route> route_by_arity(std::string_view path) {
  if (path.empty() || path[0] != '/') return not_found(path);
  std::vector<std::string_view> parts = split_path(path);
  std::string_view family = parts[0];
  size_t n = parts.size() - 1;  // parts after the family name
  Route route;

  if (path == "/") {
    route.kind = RouteKind::Index;
    return route;
  }
  // The editor page: /ui (redirected), /ui/ (its page), /ui/<file>.
  if (family == "ui" && (n == 0 || (n == 1 && parts[1].empty()))) {
    route.kind = RouteKind::Ui;
    route.file = n == 0 ? "" : "index.html";
    return route;
  }
  if (family == "ui" && n == 1) {
    route.kind = RouteKind::Ui;
    if (auto error = decode_parts(parts, {{"file", &Route::file}}, route)) return *error;
    return route;
  }
  if (family == "metrics" && n == 0) {
    route.kind = RouteKind::Metrics;
    return route;
  }
  if (family == "jobs" && n == 0) {
    route.kind = RouteKind::Jobs;
    return route;
  }
  if (family == "files" && n <= 3) {
    static constexpr RouteKind kKinds[] = {RouteKind::ListStreams, RouteKind::ListVariants, RouteKind::ListHours,
                                           RouteKind::ListSegments};
    route.kind = kKinds[n];
    std::vector<PartSpec> specs(kAllParts, kAllParts + n);
    if (auto error = decode_parts(parts, specs, route)) return *error;
    return route;
  }
  if (family == "playlist" && (n == 1 || n == 2)) {
    if (!strip_suffix(parts[n], ".m3u8")) return not_found(path);
    route.kind = n == 1 ? RouteKind::MasterPlaylist : RouteKind::MediaPlaylist;
    std::vector<PartSpec> specs(kAllParts, kAllParts + n);
    if (auto error = decode_parts(parts, specs, route)) return *error;
    return route;
  }
  if (family == "segments" && n == 4) {
    route.kind = RouteKind::Segment;
    if (auto error = decode_parts(parts, {kAllParts, kAllParts + 4}, route)) return *error;
    return route;
  }
  if (family == "segments" && n >= 2) {
    // wubloader serves its whole base directory under /segments; extras (emotes) are
    // fetched so. Every part obeys the same rules as a segment's.
    route.kind = RouteKind::File;
    for (size_t i = 1; i <= n; ++i) {
      auto part = decode_path_part(parts[i], "path part");
      if (!part) return part.error();
      route.parts.push_back(std::move(*part));
    }
    return route;
  }
  if (family == "extras" && n == 1) {
    route.kind = RouteKind::ListExtras;
    auto dir = decode_path_part(parts[1], "dir");
    if (!dir) return dir.error();
    route.stream = std::move(*dir);
    return route;
  }
  if (family == "cut" && n == 2) {
    // .ts: any cut type, streamed; .mp4: an MP4 clip a browser can seek in.
    if (strip_suffix(parts[2], ".ts")) {
      route.extension = "ts";
    } else if (strip_suffix(parts[2], ".mp4")) {
      route.extension = "mp4";
    } else {
      return not_found(path);
    }
    route.kind = RouteKind::Cut;
    if (auto error = decode_parts(parts, {kAllParts, kAllParts + 2}, route)) return *error;
    return route;
  }
  // The editor's routes (wubloader's restreamer): images of a stream's variant.
  if ((family == "waveform" || family == "thumbnail") && n == 2) {
    if (!strip_suffix(parts[2], ".png")) return not_found(path);
    route.kind = family == "waveform" ? RouteKind::Waveform : RouteKind::Thumbnail;
    route.extension = "png";
    if (auto error = decode_parts(parts, {kAllParts, kAllParts + 2}, route)) return *error;
    return route;
  }
  if (family == "frame" && n == 2) {
    if (strip_suffix(parts[2], ".png")) {
      route.extension = "png";
    } else if (strip_suffix(parts[2], ".jpg")) {
      route.extension = "jpg";
    } else {
      return not_found(path);
    }
    route.kind = RouteKind::Frame;
    if (auto error = decode_parts(parts, {kAllParts, kAllParts + 2}, route)) return *error;
    return route;
  }
  if (family == "coverage" && n == 2) {
    for (std::string_view extension : {"json", "png", "svg"}) {
      if (!strip_suffix(parts[2], "." + std::string(extension))) continue;
      route.extension = std::string(extension);
      break;
    }
    if (route.extension.empty()) return not_found(path);
    route.kind = RouteKind::Coverage;
    if (auto error = decode_parts(parts, {kAllParts, kAllParts + 2}, route)) return *error;
    return route;
  }
  if (family == "generate_videos" && n == 2) {
    route.kind = RouteKind::GenerateVideos;
    if (auto error = decode_parts(parts, {kAllParts, kAllParts + 2}, route)) return *error;
    return route;
  }
  // /<stream>/chat.json: after every family, as wubloader's catch-all route is.
  if (n == 1 && parts[1] == "chat.json") {
    route.kind = RouteKind::Chat;
    auto stream = decode_path_part(parts[0], "stream");
    if (!stream) return stream.error();
    route.stream = std::move(*stream);
    return route;
  }
  return not_found(path);
}

}  // namespace

}  // namespace wubd::core
