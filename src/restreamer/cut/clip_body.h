#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <uv.h>

#include "wubd/io/file_streamer.h"
#include "wubd/io/http_body.h"
#include "wubd/restreamer/cut_cache.h"

// /cut/S/V.mp4: a clip from the cut cache, with byte ranges as a file has them
// (`Accept-Ranges`, `206` with `Content-Range`, `416` past the end), so a browser can
// seek in it. The body waits while the clip is made (at most as long as ffmpeg takes),
// then sends the asked-for bytes of the clip's open file (io::FileStreamer). A client
// that leaves while the clip is made gives its place up; the making stops when nobody
// waits for it any more.
namespace wubd::restreamer {

class ClipBody final : public io::HttpBody {
 public:
  // `range`: the request's Range header, if any (an If-Range makes it the whole file:
  // clips carry no validator).
  ClipBody(uv_loop_t* loop, std::shared_ptr<CutCache> cache, std::string key, std::function<CutCache::Recipe()> recipe,
           std::optional<std::string> range);

  void start(io::BodyWriter& out) override;
  void resume() override { streamer_.resume(); }
  void stop() override { place_.reset(); }
  // A client that shuts its side while its clip is made is gone: nobody should wait.
  bool stop_on_client_eof() const override { return true; }

 private:
  void send(const core::Result<CutCache::ClipFile>& clip);

  std::shared_ptr<CutCache> cache_;
  std::string key_;
  std::function<CutCache::Recipe()> recipe_;
  std::optional<std::string> range_;
  io::BodyWriter* out_ = nullptr;
  std::shared_ptr<void> place_;  // in the cache's line, while the clip is made
  io::FileStreamer streamer_;
};

}  // namespace wubd::restreamer
