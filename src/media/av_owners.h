#pragma once
// Owners of FFmpeg's objects for the media files, in one place: each frees its object
// with FFmpeg's own function (which also nulls the caller's pointer, hence the copy).

#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/rational.h>
}

#include "wubd/core/smart_cut_plan.h"

namespace wubd::media {

struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameFree {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct CodecContextFree {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
using PacketPtr = std::unique_ptr<AVPacket, PacketFree>;
using FramePtr = std::unique_ptr<AVFrame, FrameFree>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextFree>;

// MPEG-TS's 90 kHz clock, the time base every cut's timestamps are planned in.
constexpr AVRational kTsTimeBase{1, int(core::kTsTicksPerSecond)};

}  // namespace wubd::media
