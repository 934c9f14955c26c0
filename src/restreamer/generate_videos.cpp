#include "wubd/restreamer/restreamer.h"

namespace wubd::restreamer {

void Restreamer::generate_videos(const core::Route&, const io::HttpRequest&, io::HttpResponse& response) {
  response.send_error(501, "generate_videos: not built yet");
}

}  // namespace wubd::restreamer
