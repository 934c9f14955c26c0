#include "wubd/media/audio_envelope.h"

#include <algorithm>
#include <cstring>
#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/samplefmt.h>
}

#include "av_owners.h"
#include "wubd/media/media_input.h"

namespace wubd::media {
namespace {

// Sample `i` of `channel` as -1..1, whatever the decoder's sample format.
float sample_at(const AVFrame* frame, int channel, int i) {
  const AVSampleFormat format = AVSampleFormat(frame->format);
  const bool planar = av_sample_fmt_is_planar(format);
  const int channels = frame->ch_layout.nb_channels;
  const std::uint8_t* data = planar ? frame->extended_data[channel] : frame->extended_data[0];
  const int index = planar ? i : i * channels + channel;
  // Copied out rather than cast: the frame's bytes are not declared as these types.
  auto read = [&](auto sample) {
    std::memcpy(&sample, data + std::size_t(index) * sizeof sample, sizeof sample);
    return sample;
  };
  switch (av_get_packed_sample_fmt(format)) {
    case AV_SAMPLE_FMT_FLT:
      return read(float{});
    case AV_SAMPLE_FMT_DBL:
      return float(read(double{}));
    case AV_SAMPLE_FMT_S16:
      return float(read(std::int16_t{})) / 32768.f;
    case AV_SAMPLE_FMT_S32:
      return float(double(read(std::int32_t{})) / 2147483648.0);
    case AV_SAMPLE_FMT_U8:
      return (float(data[index]) - 128.f) / 128.f;
    default:
      return 0.f;
  }
}

// Adds one decoded frame that starts at `at` (µs, wall time).
void add_frame(const AVFrame* frame, core::Micros at, core::Micros start, core::Micros end, core::Envelope& envelope) {
  const int columns = envelope.columns();
  const int rate = frame->sample_rate > 0 ? frame->sample_rate : 48000;
  const core::Micros frame_end = at + core::Micros(frame->nb_samples) * core::kMicrosPerSecond / rate;
  const int channels = frame->ch_layout.nb_channels;
  const int first = core::envelope_column(at, start, end, columns);
  const int last = core::envelope_column(frame_end - 1, start, end, columns);
  if (first >= 0 && first == last) {
    // The whole frame in one column (the usual case): its extremes are all it adds.
    float low = 1.f, high = -1.f;
    for (int c = 0; c < channels; ++c) {
      for (int i = 0; i < frame->nb_samples; ++i) {
        float s = sample_at(frame, c, i);
        low = std::min(low, s);
        high = std::max(high, s);
      }
    }
    if (frame->nb_samples > 0) {
      envelope.add(first, low);
      envelope.add(first, high);
    }
    return;
  }
  for (int i = 0; i < frame->nb_samples; ++i) {
    int column = core::envelope_column(at + core::Micros(i) * core::kMicrosPerSecond / rate, start, end, columns);
    if (column < 0) continue;
    for (int c = 0; c < channels; ++c) envelope.add(column, sample_at(frame, c, i));
  }
}

core::Result<bool> add_segment(const AudioSegment& segment, core::Micros start, core::Micros end, int stride,
                               core::Envelope& envelope) {
  auto input = is_fragmented_mp4(segment.path) ? MediaInput::open(segment.path) : MediaInput::open_ts(segment.path);
  if (!input) return input.error();
  AVFormatContext* context = input->get();
  const int audio = input->first_audio_stream();
  if (audio < 0) return true;
  for (unsigned i = 0; i < context->nb_streams; ++i) {
    if (int(i) != audio) context->streams[i]->discard = AVDISCARD_ALL;
  }
  const AVStream* stream = context->streams[audio];
  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  if (!codec) return core::make_error("no decoder for the audio of " + segment.path.display);
  CodecContextPtr decoder(avcodec_alloc_context3(codec));
  avcodec_parameters_to_context(decoder.get(), stream->codecpar);
  decoder->thread_count = 1;
  decoder->pkt_timebase = stream->time_base;
  if (int rc = avcodec_open2(decoder.get(), codec, nullptr); rc < 0) {
    return core::make_error("cannot decode the audio of " + segment.path.display + ": " + av_error(rc));
  }
  PacketPtr packet(av_packet_alloc());
  FramePtr frame(av_frame_alloc());
  std::int64_t first_pts = AV_NOPTS_VALUE;
  // MPEG-TS stamps only a PES packet's first audio frame; the parser splits the rest
  // out without a pts: they follow the one before by its duration.
  std::int64_t next_pts = AV_NOPTS_VALUE;
  std::int64_t frame_duration = 0;  // in the stream's time base, once known
  std::int64_t count = 0;
  int rc;
  while ((rc = av_read_frame(context, packet.get())) >= 0) {
    if (packet->stream_index == audio) {
      std::int64_t pts = packet->pts != AV_NOPTS_VALUE ? packet->pts : next_pts;
      std::int64_t duration = packet->duration > 0 ? packet->duration : frame_duration;
      next_pts = pts == AV_NOPTS_VALUE ? pts : pts + duration;
      if (pts != AV_NOPTS_VALUE && first_pts == AV_NOPTS_VALUE) first_pts = pts;
      // A packet the decoder refuses (a damaged frame in a partial segment) costs that
      // frame only.
      bool wanted = pts != AV_NOPTS_VALUE && count++ % stride == 0;
      if (wanted && avcodec_send_packet(decoder.get(), packet.get()) >= 0) {
        core::Micros at = segment.start +
                          av_rescale_q(pts - first_pts, stream->time_base, AVRational{1, int(core::kMicrosPerSecond)});
        while (avcodec_receive_frame(decoder.get(), frame.get()) == 0) {
          add_frame(frame.get(), at, start, end, envelope);
          at += core::Micros(frame->nb_samples) * core::kMicrosPerSecond / std::max(frame->sample_rate, 1);
          if (frame_duration == 0 && frame->sample_rate > 0) {
            // The first frame decoded says how long every frame is (AAC: 1024 samples).
            frame_duration = av_rescale_q(frame->nb_samples, AVRational{1, frame->sample_rate}, stream->time_base);
            if (packet->pts == AV_NOPTS_VALUE || packet->duration <= 0) next_pts = pts + frame_duration;
          }
          av_frame_unref(frame.get());
        }
      }
    }
    av_packet_unref(packet.get());
  }
  if (rc != AVERROR_EOF) return core::make_error("cannot read " + segment.path.display + ": " + av_error(rc));
  return true;
}

}  // namespace

core::Result<bool> add_audio_envelope(const std::vector<AudioSegment>& segments, core::Micros start, core::Micros end,
                                      int stride, core::Envelope& envelope) {
  stride = std::max(stride, 1);
  for (const AudioSegment& segment : segments) {
    if (auto added = add_segment(segment, start, end, stride, envelope); !added) return added.error();
  }
  return true;
}

}  // namespace wubd::media
