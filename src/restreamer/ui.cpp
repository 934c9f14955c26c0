// GET /ui/: the editor page, served from the binary (ui_files.h): its HTML, script,
// style and the pinned hls.js, and /ui/transitions.json, the names /cut knows.
#include <cJSON.h>

#include "wubd/core/transitions.h"
#include "wubd/io/json_text.h"
#include "wubd/restreamer/restreamer.h"
#include "wubd/restreamer/ui_files.h"

namespace wubd::restreamer {
namespace {

std::string transitions_json() {
  cJSON* names = cJSON_CreateArray();
  for (std::string_view name : core::transition_names()) {
    cJSON_AddItemToArray(names, cJSON_CreateString(std::string(name).c_str()));
  }
  return io::take_json_text(names);
}

}  // namespace

void Restreamer::ui(const core::Route& route, io::HttpResponse& response) {
  if (route.file.empty()) {
    response.add_header("Location", "/ui/");
    return response.send(301, "text/plain; charset=utf-8", "the editor is at /ui/\n");
  }
  // The page is small and changes with wubd: asked for again each time it loads.
  response.add_header("Cache-Control", "no-cache");
  if (route.file == "transitions.json") return response.send(200, "application/json", transitions_json());
  for (const EmbeddedFile& file : embedded_files()) {
    if (file.name == route.file) return response.send(200, file.content_type, std::string(file.bytes));
  }
  response.send_error(404, "no such file of the editor page: " + route.file);
}

}  // namespace wubd::restreamer
