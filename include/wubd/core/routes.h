#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wubd/core/result.h"

// The HTTP API's routes: which endpoint a request path names, with its path parts
// decoded and checked. Parts become file system path components, so anything that
// could step outside the base directory is refused here, before any I/O.
namespace wubd::core {

enum class RouteKind {
  Index,           // /: what this node is, with links
  ListStreams,     // /files
  ListVariants,    // /files/<stream>
  ListHours,       // /files/<stream>/<variant>
  ListSegments,    // /files/<stream>/<variant>/<hour>
  MasterPlaylist,  // /playlist/<stream>.m3u8
  MediaPlaylist,   // /playlist/<stream>/<variant>.m3u8
  Segment,         // /segments/<stream>/<variant>/<hour>/<file>
  File,            // /segments/<dir>/<path…>: any other file below the base (extras)
  ListExtras,      // /extras/<dir>: every file below BASE/<dir>, recursively
  Cut,             // /cut/<stream>/<variant>.ts or .mp4 (`extension`)
  Metrics,         // /metrics
  Jobs,            // /jobs
  Waveform,        // /waveform/<stream>/<variant>.png
  Frame,           // /frame/<stream>/<variant>.png or .jpg (`extension`)
  Thumbnail,       // /thumbnail/<stream>/<variant>.png
  Chat,            // /<stream>/chat.json
  GenerateVideos,  // /generate_videos/<stream>/<variant>
  Coverage,        // /coverage/<stream>/<variant>.json, .png or .svg (`extension`)
  Ui,              // /ui/ and /ui/<file>: the editor page (`file`; "" for /ui itself)
};

struct Route {
  RouteKind kind = RouteKind::ListStreams;
  std::string stream;
  std::string variant;
  std::string hour;
  std::string file;
  // File: the decoded parts of the path below the base (at least two).
  std::vector<std::string> parts;
  // Frame: "png" or "jpg"; Coverage: "json", "png" or "svg"; Cut: "ts" or "mp4".
  std::string extension;
};

// The `endpoint` label of request metrics: one fixed word per route family, so the
// label's values stay bounded whatever clients ask for.
std::string_view endpoint_label(RouteKind kind);

// Maps a request path (no query) to a route. Errors carry the HTTP status:
// 404 for a path that names no route, 403 for a part that is empty, starts with `.`
// or contains `/` or NUL after percent-decoding (the message names the part), and
// 400 for a malformed percent-escape.
Result<Route> route_path(std::string_view path);

// Decodes and checks one path part; `what` names it in the error ("stream").
Result<std::string> decode_path_part(std::string_view raw, std::string_view what);

// Splits a relative path a peer sent (an `/extras/DIR` entry, `a/b/c`) into parts
// that obey the same rules as a request's, without percent-decoding: none empty,
// none starting with `.`, no NUL; at most `max_parts` of them.
Result<std::vector<std::string>> split_relative_path(std::string_view path, std::size_t max_parts);

}  // namespace wubd::core
