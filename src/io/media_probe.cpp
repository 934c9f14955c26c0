#include "wubd/io/media_probe.h"

#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
}

namespace wubd::io {
namespace {

std::string av_error(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

struct ProbeWork {
  uv_work_t req{};
  std::string path;
  core::Result<StreamCodecs> result = core::make_error("not probed");
  std::function<void(core::Result<StreamCodecs>)> done;
};

}  // namespace

core::Result<StreamCodecs> probe_stream_codecs_now(const std::string& path) {
  AVFormatContext* context = nullptr;
  if (int rc = avformat_open_input(&context, path.c_str(), nullptr, nullptr); rc < 0) {
    return core::make_error("cannot open " + path + ": " + av_error(rc));
  }
  std::unique_ptr<AVFormatContext*, void (*)(AVFormatContext**)> closer(&context, avformat_close_input);
  if (int rc = avformat_find_stream_info(context, nullptr); rc < 0) {
    return core::make_error("cannot read streams of " + path + ": " + av_error(rc));
  }
  StreamCodecs codecs;
  for (unsigned i = 0; i < context->nb_streams; ++i) {
    const AVCodecParameters* parameters = context->streams[i]->codecpar;
    bool media = parameters->codec_type == AVMEDIA_TYPE_VIDEO || parameters->codec_type == AVMEDIA_TYPE_AUDIO;
    codecs.push_back(media ? avcodec_get_name(parameters->codec_id) : "");
  }
  if (codecs.empty()) return core::make_error(path + " has no streams");
  return codecs;
}

void probe_stream_codecs(uv_loop_t* loop, std::string path, std::function<void(core::Result<StreamCodecs>)> done) {
  auto* work = new ProbeWork;
  work->path = std::move(path);
  work->done = std::move(done);
  work->req.data = work;
  int rc = uv_queue_work(
      loop, &work->req, [](uv_work_t* req) {
        auto* w = static_cast<ProbeWork*>(req->data);
        w->result = probe_stream_codecs_now(w->path);
      },
      [](uv_work_t* req, int status) {
        std::unique_ptr<ProbeWork> w(static_cast<ProbeWork*>(req->data));
        if (status != 0) w->result = core::make_error(std::string("probe cancelled: ") + uv_err_name(status));
        w->done(std::move(w->result));
      });
  if (rc != 0) {
    std::unique_ptr<ProbeWork> w(work);
    w->done(core::make_error(std::string("cannot queue a probe: ") + uv_err_name(rc)));
  }
}

}  // namespace wubd::io
