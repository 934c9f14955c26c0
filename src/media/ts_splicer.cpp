#include "wubd/media/ts_splicer.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/error.h>
}

#include "av_owners.h"
#include "wubd/core/smart_cut_plan.h"
#include "wubd/media/media_input.h"

namespace wubd::media {
namespace {

constexpr std::int64_t kNoDts = std::numeric_limits<std::int64_t>::min();
// Source timestamps further than this from where the previous file ended are a jump
// (an encoder restart, a hole, the 33-bit wrap), joined without a gap.
constexpr std::int64_t kMaxContinuityGap = core::kTsTicksPerSecond;
constexpr std::size_t kOutputReserve = 2 << 20;

}  // namespace

struct TsSplicer::State {
  AVFormatContext* out = nullptr;
  std::string output;
  int out_video = -1;
  int out_audio = -1;
  std::int64_t last_dts[2] = {kNoDts, kNoDts};  // per output stream
  std::int64_t video_end = 0;                   // in output ticks: last frame's end
  std::int64_t audio_end = 0;
  std::int64_t frame_ticks = 3000;
  // An audio frame's duration (AAC: 1024 samples). MPEG-TS stamps only a PES
  // packet's first frame; the parser splits the rest out without timestamps.
  std::int64_t audio_frame_ticks = 0;
  // Source ticks + offset = output ticks, for the current run of continuous files.
  std::int64_t offset = 0;
  bool have_offset = false;
  std::int64_t previous_file_end = 0;  // source ticks
  std::int64_t range_origin = 0;       // output ticks of the range's first frame
  std::optional<std::int64_t> mark;    // output ticks of the last mark
  // The encoded run being added, and how many of its frames were.
  std::int64_t encoded_run_origin = kNoDts;
  bool encoded_run_at_mark = false;
  std::int64_t encoded_index = 0;
  int repaired = 0;

  static int write_output(void* opaque, std::uint8_t* buffer, int size) {
    auto* self = static_cast<State*>(opaque);
    // Room for a segment's worth at once (and the HTTP chunk's CRLF): growing a
    // string by doubling copies every byte again.
    if (self->output.empty()) self->output.reserve(kOutputReserve);
    self->output.append(reinterpret_cast<const char*>(buffer), std::size_t(size));
    return size;
  }

  // Writes one packet at output ticks pts/dts, keeping each stream's dts increasing.
  core::Result<bool> write(AVPacket* packet, int out_index, std::int64_t pts, std::int64_t dts, std::int64_t duration) {
    std::int64_t& last = last_dts[out_index];
    if (last != kNoDts && dts <= last) {
      ++repaired;
      if (out_index != out_video || pts <= last) {
        av_packet_unref(packet);
        return true;  // an audio frame overlapping the join, or a frame shown too early
      }
      dts = last + 1;
    }
    last = dts;
    if (out_index == out_video) video_end = std::max(video_end, pts + frame_ticks);
    if (out_index == out_audio) audio_end = std::max(audio_end, pts + duration);
    const AVRational base = out->streams[out_index]->time_base;
    packet->stream_index = out_index;
    packet->pts = av_rescale_q(pts, kTsTimeBase, base);
    packet->dts = av_rescale_q(dts, kTsTimeBase, base);
    packet->duration = av_rescale_q(duration, kTsTimeBase, base);
    packet->pos = -1;
    if (int rc = av_interleaved_write_frame(out, packet); rc < 0) {
      return core::make_error("cannot write the cut: " + av_error(rc));
    }
    return true;
  }
};

TsSplicer::TsSplicer() : state_(std::make_unique<State>()) {}

TsSplicer::~TsSplicer() {
  if (!state_->out) return;
  if (state_->out->pb) {
    av_freep(&state_->out->pb->buffer);
    avio_context_free(&state_->out->pb);
  }
  avformat_free_context(state_->out);
}

core::Result<bool> TsSplicer::open(const io::BeneathPath& first_segment) {
  MediaInput::Options options;
  options.format = av_find_input_format("mpegts");
  options.find_streams = true;
  auto input = MediaInput::open(first_segment, options);
  if (!input) return input.error();
  State& s = *state_;
  if (int rc = avformat_alloc_output_context2(&s.out, nullptr, "mpegts", nullptr); rc < 0) {
    return core::make_error("cannot make an MPEG-TS muxer: " + av_error(rc));
  }
  for (AVMediaType type : {AVMEDIA_TYPE_VIDEO, AVMEDIA_TYPE_AUDIO}) {
    int index = type == AVMEDIA_TYPE_VIDEO ? input->first_video_stream() : input->first_audio_stream();
    if (index < 0) continue;
    AVStream* stream = avformat_new_stream(s.out, nullptr);
    if (!stream) return core::make_error("out of memory");
    avcodec_parameters_copy(stream->codecpar, input->get()->streams[index]->codecpar);
    stream->codecpar->codec_tag = 0;
    stream->time_base = kTsTimeBase;
    const AVCodecParameters* source = input->get()->streams[index]->codecpar;
    if (type == AVMEDIA_TYPE_AUDIO && source->frame_size > 0 && source->sample_rate > 0) {
      s.audio_frame_ticks = std::int64_t(source->frame_size) * core::kTsTicksPerSecond / source->sample_rate;
    }
    (type == AVMEDIA_TYPE_VIDEO ? s.out_video : s.out_audio) = stream->index;
  }
  if (s.out->nb_streams == 0) return core::make_error(first_segment.display + " has neither video nor audio");
  constexpr int kBufferSize = 64 * 1024;
  auto* buffer = static_cast<unsigned char*>(av_malloc(kBufferSize));
  if (!buffer) return core::make_error("out of memory");
  s.out->pb = avio_alloc_context(buffer, kBufferSize, 1, &s, nullptr, &State::write_output, nullptr);
  if (!s.out->pb) {
    av_free(buffer);
    return core::make_error("out of memory");
  }
  if (int rc = avformat_write_header(s.out, nullptr); rc < 0) {
    return core::make_error("cannot start the cut: " + av_error(rc));
  }
  avio_flush(s.out->pb);
  return true;
}

void TsSplicer::begin_range(std::int64_t lead, std::int64_t frame_ticks) {
  State& s = *state_;
  std::int64_t after_video = s.last_dts[std::max(s.out_video, 0)];
  std::int64_t dts_floor = (s.out_video >= 0 && after_video != kNoDts ? after_video + 1 : 0) + lead;
  s.range_origin = std::max({s.video_end, s.audio_end, dts_floor});
  s.have_offset = false;
  s.mark.reset();
  if (frame_ticks > 0) s.frame_ticks = frame_ticks;
}

// Over 100 lines on purpose: one segment's packets retimed and written, with the
// stream mapping of its first packets; 2 lines over, kept whole for the timestamp
// rules it states.
// NOLINTNEXTLINE(readability-function-size)
core::Result<bool> TsSplicer::add_segment(const Segment& segment) {
  State& s = *state_;
  // A segment wholly inside the range is copied whole: its packets need no parser.
  auto input = segment.bytes ? MediaInput::open_ts_memory(segment.bytes, "a transition clip", true)
                             : MediaInput::open_ts(segment.path, !segment.reference_pts);
  if (!input) return input.error();
  const int in_video = input->first_video_stream();
  const int in_audio = input->first_audio_stream();
  if (segment.origin_pts) {
    s.offset = s.range_origin - *segment.origin_pts;
    s.have_offset = true;
  }
  // A file whose timestamps do not continue the last one's is joined without a gap:
  // its first video frame lands where the video ended. Until that frame is known
  // (audio may come first), its packets wait here.
  struct Waiting {
    PacketPtr packet;
    int out_index;
    std::int64_t pts, dts, duration;
  };
  std::vector<Waiting> waiting;
  bool first_packet = true;
  bool placing = false;
  auto place = [&](std::int64_t first_pts, bool is_video) -> core::Result<bool> {
    // By a frame: where the video ended. By audio (a file without video): past both.
    s.offset = (is_video ? s.video_end : std::max(s.video_end, s.audio_end)) - first_pts;
    s.have_offset = true;
    placing = false;
    for (Waiting& w : waiting) {
      auto written = s.write(w.packet.get(), w.out_index, w.pts + s.offset, w.dts + s.offset, w.duration);
      if (!written) return written;
    }
    waiting.clear();
    return true;
  };
  std::int64_t file_end = 0;
  std::int64_t next_audio_pts = 0;
  bool have_next_audio = false;
  PacketPtr packet(av_packet_alloc());
  int rc;
  while ((rc = av_read_frame(input->get(), packet.get())) >= 0) {
    const int in_index = packet->stream_index;
    const int out_index = in_index == in_video ? s.out_video : in_index == in_audio ? s.out_audio : -1;
    const bool audio = in_index == in_audio;
    if (out_index < 0 || (packet->pts == AV_NOPTS_VALUE && !(audio && have_next_audio))) {
      av_packet_unref(packet.get());
      continue;
    }
    const AVRational base = input->get()->streams[in_index]->time_base;
    std::int64_t duration = av_rescale_q(packet->duration, base, kTsTimeBase);
    std::int64_t pts, dts;
    if (packet->pts == AV_NOPTS_VALUE) {
      pts = dts = next_audio_pts;  // a later frame of the same PES packet
    } else {
      pts = av_rescale_q(packet->pts, base, kTsTimeBase);
      dts = packet->dts == AV_NOPTS_VALUE ? pts : av_rescale_q(packet->dts, base, kTsTimeBase);
    }
    if (audio) {
      if (duration <= 0) duration = s.audio_frame_ticks;
      next_audio_pts = pts + duration;
      have_next_audio = duration > 0;
    }
    if (first_packet) {
      first_packet = false;
      bool continues = s.have_offset && std::llabs(dts - s.previous_file_end) <= kMaxContinuityGap;
      placing = !segment.origin_pts && !continues;
      // A file read for the plan knows its first frame already (even one whose frames
      // are all re-encoded, as a tail's are).
      if (placing && segment.reference_pts) {
        if (auto placed = place(*segment.reference_pts, true); !placed) return placed;
      }
    }
    file_end = std::max(file_end, pts + std::max(duration, std::int64_t(1)));
    bool wanted = true;
    if (segment.reference_pts) {
      core::Micros wall = segment.wall_start + core::ticks_to_micros(pts - *segment.reference_pts);
      wanted = out_index == s.out_video ? wall >= segment.video_from && wall < segment.video_to
                                        : wall >= segment.audio_from && wall < segment.audio_to;
    }
    if (!wanted) {
      av_packet_unref(packet.get());
      continue;
    }
    if (placing) {
      waiting.push_back({PacketPtr(av_packet_clone(packet.get())), out_index, pts, dts, duration});
      av_packet_unref(packet.get());
      if (out_index != s.out_video) continue;
      if (auto placed = place(pts, true); !placed) return placed;
      continue;
    }
    if (auto written = s.write(packet.get(), out_index, pts + s.offset, dts + s.offset, duration); !written) {
      return written;
    }
  }
  if (rc != AVERROR_EOF) return core::make_error("cannot read " + input->display() + ": " + av_error(rc));
  if (placing && !waiting.empty()) {
    if (auto placed = place(waiting.front().pts, false); !placed) return placed;
  }
  s.previous_file_end = file_end;
  if (segment.mark_pts) s.mark = *segment.mark_pts + s.offset;
  avio_flush(s.out->pb);
  return true;
}

core::Result<bool> TsSplicer::add_encoded(const std::vector<EncodedFrame>& frames, const EncodedRun& run) {
  State& s = *state_;
  if (s.out_video < 0) return core::make_error("encoded video for a cut without video");
  if (run.at_mark && !s.mark) return core::make_error("encoded run has no segment marking its place");
  const std::int64_t anchor = run.at_mark ? *s.mark : s.range_origin;
  if (s.encoded_run_origin != run.origin_pts || s.encoded_run_at_mark != run.at_mark) {
    s.encoded_run_origin = run.origin_pts;  // a new run: count its frames from 0
    s.encoded_run_at_mark = run.at_mark;
    s.encoded_index = 0;
  }
  const std::int64_t span = std::max(run.frames - 1, 1);
  PacketPtr packet(av_packet_alloc());
  for (const EncodedFrame& frame : frames) {
    if (int rc = av_new_packet(packet.get(), int(frame.data.size())); rc < 0) {
      return core::make_error("cannot write the cut: " + av_error(rc));
    }
    std::memcpy(packet->data, frame.data.data(), frame.data.size());
    if (frame.key) packet->flags |= AV_PKT_FLAG_KEY;
    std::int64_t pts = anchor + (frame.pts - run.origin_pts);
    std::int64_t step = std::min<std::int64_t>(s.encoded_index++, span);
    std::int64_t lag = run.lag_first + (run.lag_last - run.lag_first) * step / span;
    if (auto written = s.write(packet.get(), s.out_video, pts, pts - lag, s.frame_ticks); !written) return written;
  }
  avio_flush(s.out->pb);
  return true;
}

core::Result<bool> TsSplicer::finish() {
  State& s = *state_;
  if (int rc = av_write_trailer(s.out); rc < 0) return core::make_error("cannot end the cut: " + av_error(rc));
  avio_flush(s.out->pb);
  return true;
}

std::string TsSplicer::take_output() { return std::exchange(state_->output, {}); }

int TsSplicer::repaired_packets() const { return state_->repaired; }

}  // namespace wubd::media
