#include "wubd/media/frame_grab.h"

#include <algorithm>
#include <memory>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include "av_owners.h"
#include "wubd/media/images.h"
#include "wubd/media/media_input.h"

namespace wubd::media {
namespace {

core::Result<FramePtr> decode_frame_at(const io::BeneathPath& segment, core::Micros offset) {
  auto input = is_fragmented_mp4(segment) ? MediaInput::open(segment) : MediaInput::open_ts(segment);
  if (!input) return input.error();
  AVFormatContext* context = input->get();
  const int video = input->first_video_stream();
  if (video < 0) return core::make_error(segment.display + " has no video", 406);
  for (unsigned i = 0; i < context->nb_streams; ++i) {
    if (int(i) != video) context->streams[i]->discard = AVDISCARD_ALL;  // not even parsed
  }
  const AVStream* stream = context->streams[video];

  // The video's packets, in decode order: a segment is a few megabytes at most.
  std::vector<PacketPtr> packets;
  for (;;) {
    PacketPtr packet(av_packet_alloc());
    int rc = av_read_frame(context, packet.get());
    if (rc == AVERROR_EOF) break;
    if (rc < 0) return core::make_error("cannot read " + segment.display + ": " + av_error(rc));
    if (packet->stream_index == video && packet->pts != AV_NOPTS_VALUE) packets.push_back(std::move(packet));
  }
  if (packets.empty()) return core::make_error(segment.display + " holds no video frames", 406);

  std::int64_t first_pts = packets.front()->pts;
  for (const PacketPtr& p : packets) first_pts = std::min(first_pts, p->pts);
  std::int64_t wanted_pts =
      first_pts + av_rescale_q_rnd(offset, AVRational{1, 1'000'000}, stream->time_base, AV_ROUND_DOWN);
  // The frame shown then: the latest one presented at or before it.
  std::size_t target = packets.size();
  for (std::size_t i = 0; i < packets.size(); ++i) {
    if (packets[i]->pts <= wanted_pts && (target == packets.size() || packets[i]->pts > packets[target]->pts)) {
      target = i;
    }
  }
  if (target == packets.size()) return core::make_error("no video frame at that time in " + segment.display, 406);
  // Past the last frame's own duration (taken as the step before it), the file holds
  // nothing of that time.
  std::vector<std::int64_t> sorted;
  sorted.reserve(packets.size());
  for (const PacketPtr& p : packets) sorted.push_back(p->pts);
  std::sort(sorted.begin(), sorted.end());
  std::int64_t step = sorted.size() > 1 ? sorted.back() - sorted[sorted.size() - 2] : 0;
  if (sorted.size() > 1 && wanted_pts >= sorted.back() + step) {
    return core::make_error("no video frame at that time in " + segment.display + " (it ends before)", 406);
  }
  const std::int64_t target_pts = packets[target]->pts;
  // Its group's keyframe: the last one at or before it in decode order (closed groups).
  std::size_t from = 0;
  for (std::size_t i = target + 1; i-- > 0;) {
    if ((packets[i]->flags & AV_PKT_FLAG_KEY) && packets[i]->pts <= target_pts) {
      from = i;
      break;
    }
  }

  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  if (!codec) return core::make_error("no decoder for " + std::string(avcodec_get_name(stream->codecpar->codec_id)));
  CodecContextPtr decoder(avcodec_alloc_context3(codec));
  avcodec_parameters_to_context(decoder.get(), stream->codecpar);
  decoder->thread_count = 1;  // no threads of its own: the threadpool runs many of these
  decoder->pkt_timebase = stream->time_base;
  if (int rc = avcodec_open2(decoder.get(), codec, nullptr); rc < 0) {
    return core::make_error("cannot start the video decoder: " + av_error(rc));
  }
  FramePtr frame(av_frame_alloc());
  FramePtr found;
  auto take_frames = [&] {
    while (avcodec_receive_frame(decoder.get(), frame.get()) == 0) {
      if (frame->pts == target_pts) {
        found.reset(av_frame_clone(frame.get()));
      }
      av_frame_unref(frame.get());
    }
  };
  for (std::size_t i = from; i <= target; ++i) {
    // Frames nothing refers to are only needed if they are the one asked for.
    decoder->skip_frame = i == target ? AVDISCARD_DEFAULT : AVDISCARD_NONREF;
    if (int rc = avcodec_send_packet(decoder.get(), packets[i].get()); rc < 0 && rc != AVERROR(EAGAIN)) {
      return core::make_error("cannot decode " + segment.display + ": " + av_error(rc));
    }
    take_frames();
  }
  avcodec_send_packet(decoder.get(), nullptr);
  take_frames();
  if (!found) return core::make_error("the frame at that time in " + segment.display + " does not decode", 406);
  return FramePtr(found.release());
}

}  // namespace

core::Result<core::Picture> frame_at(const io::BeneathPath& segment, core::Micros offset) {
  auto frame = decode_frame_at(segment, offset);
  if (!frame) return frame.error();
  return frame_to_picture(frame->get());
}

core::Result<std::string> frame_image_at(const io::BeneathPath& segment, core::Micros offset, ImageFormat format) {
  auto frame = decode_frame_at(segment, offset);
  if (!frame) return frame.error();
  return encode_frame(frame->get(), format);
}

}  // namespace wubd::media
