#include "wubd/media/media_probe.h"

#include <algorithm>
#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
}

#include "wubd/media/media_input.h"

namespace wubd::media {

core::Result<StreamCodecs> probe_stream_codecs(const io::BeneathPath& path) {
  MediaInput::Options options;
  options.find_streams = true;
  auto input = MediaInput::open(path, options);
  if (!input) return input.error();
  const AVFormatContext* context = input->get();
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

core::Result<core::SegmentFrames> read_segment_frames(const io::BeneathPath& path) {
  // No find_streams: MPEG-TS names its streams' codecs up front, and the timestamps
  // come from the packets read anyway. It would decode frames for nothing.
  auto input = MediaInput::open(path);
  if (!input) return input.error();
  AVFormatContext* context = input->get();
  const AVRational ticks{1, int(core::kTsTicksPerSecond)};
  core::SegmentFrames frames;
  const int video = input->first_video_stream();
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

}  // namespace wubd::media
