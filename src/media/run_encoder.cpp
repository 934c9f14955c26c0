#include "wubd/media/run_encoder.h"

#include <optional>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/opt.h>
}

#include "av_owners.h"
#include "wubd/core/smart_cut_plan.h"
#include "wubd/media/media_input.h"

namespace wubd::media {

struct RunEncoder::State {
  std::vector<io::BeneathPath> paths;
  std::int64_t first_pts = 0;
  int wanted = 0;

  std::size_t next_path = 0;
  std::optional<MediaInput> input;  // the file being decoded
  int video = -1;
  AVCodecContext* decoder = nullptr;
  bool decoder_draining = false;
  AVCodecContext* encoder = nullptr;
  AVPacket* packet = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();

  bool started = false;  // the first wanted frame was reached
  bool inputs_ended = false;
  int sent = 0;  // frames given to the encoder
  bool encoder_flushed = false;
  bool finished = false;
  // Output timestamps: the source's, kept increasing across a jump between files.
  std::int64_t last_pts = 0;
  std::int64_t step = 3000;

  ~State() {
    avcodec_free_context(&decoder);
    avcodec_free_context(&encoder);
    av_packet_free(&packet);
    av_frame_free(&frame);
  }

  core::Result<bool> open_next_input() {
    input.reset();
    const io::BeneathPath& path = paths[next_path++];
    auto opened = MediaInput::open(path);
    if (!opened) return opened.error();
    input = std::move(*opened);
    video = input->first_video_stream();
    if (video < 0) return core::make_error(path.display + " has no video to re-encode");
    if (decoder) return true;  // the same stream goes on: keep the decoder's state
    const AVCodecParameters* parameters = input->get()->streams[video]->codecpar;
    const AVCodec* codec = avcodec_find_decoder(parameters->codec_id);
    if (!codec) return core::make_error(std::string("no decoder for ") + avcodec_get_name(parameters->codec_id));
    decoder = avcodec_alloc_context3(codec);
    if (!decoder) return core::make_error("out of memory");
    avcodec_parameters_to_context(decoder, parameters);
    decoder->pkt_timebase = input->get()->streams[video]->time_base;
    decoder->thread_count = 1;
    if (int rc = avcodec_open2(decoder, codec, nullptr); rc < 0) {
      return core::make_error("cannot open the decoder: " + av_error(rc));
    }
    return true;
  }

  // The next decoded frame into `frame`: true, or false at the end of every input.
  core::Result<bool> next_frame() {
    while (true) {
      if (decoder) {
        int rc = avcodec_receive_frame(decoder, frame);
        if (rc == 0) return true;
        if (rc == AVERROR_EOF) return false;
        if (rc != AVERROR(EAGAIN)) return core::make_error("cannot decode: " + av_error(rc));
      }
      if (!input) {
        if (next_path == paths.size()) {
          if (!decoder || decoder_draining) return false;
          decoder_draining = true;  // hands out the frames it holds, then EOF
          avcodec_send_packet(decoder, nullptr);
          continue;
        }
        if (auto opened = open_next_input(); !opened) return opened.error();
      }
      int rc = av_read_frame(input->get(), packet);
      if (rc == AVERROR_EOF) {
        input.reset();
        continue;
      }
      if (rc < 0) return core::make_error("cannot read: " + av_error(rc));
      if (packet->stream_index == video) {
        // A packet the decoder refuses is skipped: it drops a frame, not the cut.
        avcodec_send_packet(decoder, packet);
      }
      av_packet_unref(packet);
    }
  }

  core::Result<bool> open_encoder() {
    const AVCodec* codec = avcodec_find_encoder(decoder->codec_id);
    if (!codec) return core::make_error(std::string("no encoder for ") + avcodec_get_name(decoder->codec_id));
    encoder = avcodec_alloc_context3(codec);
    if (!encoder) return core::make_error("out of memory");
    encoder->width = frame->width;
    encoder->height = frame->height;
    encoder->pix_fmt = AVPixelFormat(frame->format);
    encoder->sample_aspect_ratio = frame->sample_aspect_ratio;
    encoder->color_range = frame->color_range;
    encoder->color_primaries = frame->color_primaries;
    encoder->color_trc = frame->color_trc;
    encoder->colorspace = frame->colorspace;
    encoder->time_base = kTsTimeBase;
    encoder->framerate = AVRational{int(core::kTsTicksPerSecond), int(step)};
    encoder->gop_size = wanted + 1;  // one keyframe, at the start
    encoder->max_b_frames = 0;       // decode order = presentation order
    encoder->thread_count = 1;
    // Options of libx264 (other encoders lack them and ignore them): fast, and no
    // rate-control lookahead, so each frame's packet comes out as it goes in.
    av_opt_set(encoder->priv_data, "preset", "veryfast", 0);
    av_opt_set_int(encoder->priv_data, "rc-lookahead", 0, 0);
    if (int rc = avcodec_open2(encoder, codec, nullptr); rc < 0) {
      return core::make_error(std::string("cannot open the ") + codec->name + " encoder: " + av_error(rc));
    }
    return true;
  }

  core::Result<bool> drain(std::vector<EncodedFrame>& out) {
    while (true) {
      int rc = avcodec_receive_packet(encoder, packet);
      if (rc == AVERROR(EAGAIN)) return true;
      if (rc == AVERROR_EOF) {
        finished = true;
        return true;
      }
      if (rc < 0) return core::make_error("cannot encode: " + av_error(rc));
      out.push_back({std::string(reinterpret_cast<const char*>(packet->data), std::size_t(packet->size)), packet->pts,
                     (packet->flags & AV_PKT_FLAG_KEY) != 0});
      av_packet_unref(packet);
    }
  }

  core::Result<bool> flush_encoder(std::vector<EncodedFrame>& out) {
    if (!encoder) {
      finished = true;  // nothing was wanted, or nothing decoded
      return true;
    }
    if (!encoder_flushed) {
      encoder_flushed = true;
      avcodec_send_frame(encoder, nullptr);
    }
    return drain(out);
  }
};

RunEncoder::RunEncoder(std::vector<io::BeneathPath> paths, std::int64_t first_pts, int frames, std::int64_t frame_ticks)
    : state_(std::make_unique<State>()) {
  state_->paths = std::move(paths);
  state_->first_pts = first_pts;
  state_->wanted = frames;
  if (frame_ticks > 0) state_->step = frame_ticks;
}

RunEncoder::~RunEncoder() = default;

bool RunEncoder::done() const { return state_->finished; }

core::Result<bool> RunEncoder::encode_more(int batch, std::chrono::microseconds budget,
                                           std::vector<EncodedFrame>& out) {
  State& s = *state_;
  if (s.finished) return true;
  if (!s.packet || !s.frame) return core::make_error("out of memory");
  const auto deadline = std::chrono::steady_clock::now() + budget;
  for (int encoded = 0; encoded < batch && s.sent < s.wanted;) {
    if (encoded > 0 && std::chrono::steady_clock::now() >= deadline) break;
    auto more = s.next_frame();
    if (!more) return more;
    if (!*more) {
      s.inputs_ended = true;  // the files ended before the run did: encode what there was
      break;
    }
    std::int64_t pts = av_rescale_q(s.frame->best_effort_timestamp, s.decoder->pkt_timebase, kTsTimeBase);
    if (!s.started) {
      if (pts < s.first_pts) {
        av_frame_unref(s.frame);
        continue;
      }
      s.started = true;
      if (auto opened = s.open_encoder(); !opened) return opened;
      s.last_pts = pts - s.step;
    }
    if (pts <= s.last_pts || pts > s.last_pts + core::kTsTicksPerSecond) pts = s.last_pts + s.step;
    if (pts - s.last_pts > 0 && pts - s.last_pts < s.step) s.step = pts - s.last_pts;
    s.last_pts = pts;
    s.frame->pts = pts;
    s.frame->pict_type = s.sent == 0 ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    if (int rc = avcodec_send_frame(s.encoder, s.frame); rc < 0) {
      return core::make_error("cannot encode: " + av_error(rc));
    }
    av_frame_unref(s.frame);
    ++s.sent;
    ++encoded;
    if (auto drained = s.drain(out); !drained) return drained;
  }
  if (s.sent == s.wanted || s.inputs_ended) return s.flush_encoder(out);
  return true;
}

}  // namespace wubd::media
