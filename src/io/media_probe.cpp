#include "wubd/io/media_probe.h"

#include <algorithm>
#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
}

#include "wubd/io/media_input.h"
#include "wubd/io/threadpool.h"

namespace wubd::io {
namespace {

using InputCloser = std::unique_ptr<AVFormatContext*, void (*)(AVFormatContext**)>;

core::Result<bool> open_with_streams(AVFormatContext*& context, const BeneathPath& path) {
  if (auto opened = open_media_input(&context, path); !opened) return opened;
  if (int rc = avformat_find_stream_info(context, nullptr); rc < 0) {
    return core::make_error("cannot read streams of " + path.display + ": " + av_error(rc));
  }
  return true;
}

// Runs `read(path)` in the threadpool and hands its result to `done` on the loop.
template <typename T>
void read_in_threadpool(uv_loop_t* loop, BeneathPath path, core::Result<T> (*read)(const BeneathPath&),
                        std::function<void(core::Result<T>)> done) {
  auto result = std::make_shared<core::Result<T>>(core::make_error("not read"));
  auto shared_done = std::make_shared<std::function<void(core::Result<T>)>>(std::move(done));
  int rc = run_in_threadpool(
      loop, [result, read, path] { *result = read(path); },
      [result, shared_done](int status) {
        if (status != 0) *result = core::make_error(std::string("media read cancelled: ") + uv_err_name(status));
        (*shared_done)(std::move(*result));
      });
  if (rc != 0) (*shared_done)(core::make_error(std::string("cannot queue a media read: ") + uv_err_name(rc)));
}

}  // namespace

core::Result<StreamCodecs> probe_stream_codecs_now(const BeneathPath& path) {
  AVFormatContext* context = nullptr;
  InputCloser closer(&context, avformat_close_input);
  if (auto opened = open_with_streams(context, path); !opened) return opened.error();
  StreamCodecs streams;
  for (unsigned i = 0; i < context->nb_streams; ++i) {
    const AVCodecParameters* parameters = context->streams[i]->codecpar;
    bool video = parameters->codec_type == AVMEDIA_TYPE_VIDEO;
    bool audio = parameters->codec_type == AVMEDIA_TYPE_AUDIO;
    streams.codecs.push_back(video ? avcodec_get_name(parameters->codec_id) : "");
    streams.has_video = streams.has_video || video;
    streams.has_audio = streams.has_audio || audio;
  }
  if (streams.codecs.empty()) return core::make_error(path.display + " has no streams");
  if (context->start_time != AV_NOPTS_VALUE) streams.start_time = context->start_time;  // AV_TIME_BASE: µs
  return streams;
}

void probe_stream_codecs(uv_loop_t* loop, BeneathPath path, std::function<void(core::Result<StreamCodecs>)> done) {
  read_in_threadpool<StreamCodecs>(loop, std::move(path), probe_stream_codecs_now, std::move(done));
}

core::Result<core::SegmentFrames> read_segment_frames_now(const BeneathPath& path) {
  // No avformat_find_stream_info: MPEG-TS names its streams' codecs up front, and the
  // timestamps come from the packets read anyway. It would decode frames for nothing.
  AVFormatContext* context = nullptr;
  InputCloser closer(&context, avformat_close_input);
  if (auto opened = open_media_input(&context, path); !opened) return opened.error();
  const AVRational ticks{1, int(core::kTsTicksPerSecond)};
  core::SegmentFrames frames;
  int video = -1;
  for (unsigned i = 0; i < context->nb_streams; ++i) {
    if (context->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
      video = int(i);
      break;
    }
  }
  bool have_start = false;
  AVPacket* packet = av_packet_alloc();
  std::unique_ptr<AVPacket*, void (*)(AVPacket**)> packet_free(&packet, av_packet_free);
  int rc;
  while ((rc = av_read_frame(context, packet)) >= 0) {
    const AVStream* stream = context->streams[packet->stream_index];
    const AVMediaType type = stream->codecpar->codec_type;
    if (packet->pts != AV_NOPTS_VALUE && (type == AVMEDIA_TYPE_VIDEO || type == AVMEDIA_TYPE_AUDIO)) {
      std::int64_t pts = av_rescale_q(packet->pts, stream->time_base, ticks);
      frames.start_pts = have_start ? std::min(frames.start_pts, pts) : pts;
      have_start = true;
      if (packet->stream_index == video) {
        std::int64_t dts = packet->dts == AV_NOPTS_VALUE ? pts : av_rescale_q(packet->dts, stream->time_base, ticks);
        frames.video.push_back({pts, dts, (packet->flags & AV_PKT_FLAG_KEY) != 0});
      }
    }
    av_packet_unref(packet);
  }
  if (rc != AVERROR_EOF) return core::make_error("cannot read " + path.display + ": " + av_error(rc));
  if (!have_start) return core::make_error(path.display + " has no timestamped video or audio");
  std::stable_sort(frames.video.begin(), frames.video.end(),
                   [](const core::VideoFrame& a, const core::VideoFrame& b) { return a.pts < b.pts; });
  return frames;
}

void read_segment_frames(uv_loop_t* loop, BeneathPath path,
                         std::function<void(core::Result<core::SegmentFrames>)> done) {
  read_in_threadpool<core::SegmentFrames>(loop, std::move(path), read_segment_frames_now, std::move(done));
}

}  // namespace wubd::io
