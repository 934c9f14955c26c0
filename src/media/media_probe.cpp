#include "wubd/media/media_probe.h"

#include <algorithm>
#include <cstdio>
#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
}

#include "wubd/media/media_input.h"

namespace wubd::media {
namespace {

// `avc1.PPCCLL` from an H.264 sequence parameter set: its profile, constraint flags
// and level bytes, found in Annex B bytes (MPEG-TS) or an avcC record (MP4).
std::string avc1_codec(const std::uint8_t* data, std::size_t size) {
  char text[16];
  if (size >= 4 && data[0] == 1) {  // avcC: version, profile, compatibility, level
    std::snprintf(text, sizeof text, "avc1.%02X%02X%02X", data[1], data[2], data[3]);
    return text;
  }
  for (std::size_t i = 0; i + 6 < size; ++i) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 && (data[i + 3] & 0x1f) == 7) {
      std::snprintf(text, sizeof text, "avc1.%02X%02X%02X", data[i + 4], data[i + 5], data[i + 6]);
      return text;
    }
  }
  return "";
}

std::string audio_codec(const AVCodecParameters* audio) {
  switch (audio->codec_id) {
    case AV_CODEC_ID_AAC:
      // The MPEG-4 audio object type is FFmpeg's AAC profile plus one (LC: 2).
      return "mp4a.40." + std::to_string(audio->profile >= 0 ? audio->profile + 1 : 2);
    case AV_CODEC_ID_MP3:
      return "mp4a.40.34";
    case AV_CODEC_ID_AC3:
      return "ac-3";
    case AV_CODEC_ID_EAC3:
      return "ec-3";
    default:
      return "";
  }
}

}  // namespace

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

core::Result<VariantMedia> probe_variant_media(const io::BeneathPath& path) {
  MediaInput::Options options;
  options.find_streams = true;
  auto input = MediaInput::open(path, options);
  if (!input) return input.error();
  AVFormatContext* context = input->get();
  VariantMedia media;
  const int video = input->first_video_stream();
  const int audio = input->first_audio_stream();
  std::string video_codec;
  if (video >= 0) {
    const AVStream* stream = context->streams[video];
    const AVCodecParameters* parameters = stream->codecpar;
    media.width = parameters->width;
    media.height = parameters->height;
    AVRational rate = stream->avg_frame_rate.num > 0 ? stream->avg_frame_rate : stream->r_frame_rate;
    if (rate.num > 0 && rate.den > 0) media.frame_rate = av_q2d(rate);
    if (parameters->codec_id == AV_CODEC_ID_H264) {
      video_codec = avc1_codec(parameters->extradata, std::size_t(std::max(parameters->extradata_size, 0)));
      if (video_codec.empty()) {
        // No extradata: the parameter sets are in the first keyframe's bytes.
        AVPacket* packet = av_packet_alloc();
        while (video_codec.empty() && av_read_frame(context, packet) >= 0) {
          if (packet->stream_index == video) video_codec = avc1_codec(packet->data, std::size_t(packet->size));
          av_packet_unref(packet);
        }
        av_packet_free(&packet);
      }
    }
  }
  std::string sound = audio >= 0 ? audio_codec(context->streams[audio]->codecpar) : "";
  bool known = (video < 0 || !video_codec.empty()) && (audio < 0 || !sound.empty());
  if (known) media.codecs = video_codec + (!video_codec.empty() && !sound.empty() ? "," : "") + sound;
  return media;
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
