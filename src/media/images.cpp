#include "wubd/media/images.h"

#include <algorithm>
#include <cstring>
#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include "av_owners.h"
#include "wubd/media/media_input.h"

namespace wubd::media {
namespace {

struct SwsFree {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using CodecContext = CodecContextPtr;
using Frame = FramePtr;
using Packet = PacketPtr;
using Sws = std::unique_ptr<SwsContext, SwsFree>;

constexpr std::string_view kPngSignature("\x89PNG\r\n\x1a\n", 8);

bool opaque(const core::Picture& picture) {
  for (std::size_t i = 3; i < picture.rgba.size(); i += 4) {
    if (picture.rgba[i] != 255) return false;
  }
  return true;
}

// Converts between a frame of one format and size and another, with `flags`.
core::Result<bool> convert(const AVFrame* from, AVFrame* to, int flags) {
  Sws sws(sws_getContext(from->width, from->height, AVPixelFormat(from->format), to->width, to->height,
                         AVPixelFormat(to->format), flags, nullptr, nullptr, nullptr));
  if (!sws) return core::make_error("cannot convert pixels (libswscale refused the formats)");
  const AVPixFmtDescriptor* from_format = av_pix_fmt_desc_get(AVPixelFormat(from->format));
  if (from_format && !(from_format->flags & AV_PIX_FMT_FLAG_RGB)) {
    // Video: libswscale assumes BT.601 and limited range unless told; the frame says
    // which it is (HD is BT.709), as ffmpeg's scale filter reads it.
    int* inv_table;
    int* table;
    int src_range, dst_range, brightness, contrast, saturation;
    sws_getColorspaceDetails(sws.get(), &inv_table, &src_range, &table, &dst_range, &brightness, &contrast,
                             &saturation);
    if (from->colorspace == AVCOL_SPC_BT709) inv_table = const_cast<int*>(sws_getCoefficients(SWS_CS_ITU709));
    if (from->color_range == AVCOL_RANGE_JPEG) src_range = 1;
    sws_setColorspaceDetails(sws.get(), inv_table, src_range, table, dst_range, brightness, contrast, saturation);
  }
  sws_scale(sws.get(), from->data, from->linesize, 0, from->height, to->data, to->linesize);
  return true;
}

Frame rgba_frame(const core::Picture& picture) {
  Frame frame(av_frame_alloc());
  frame->format = AV_PIX_FMT_RGBA;
  frame->width = picture.width;
  frame->height = picture.height;
  // The picture's own buffer, read only: no copy.
  frame->data[0] = const_cast<std::uint8_t*>(picture.rgba.data());
  frame->linesize[0] = picture.width * 4;
  return frame;
}

core::Picture picture_of(const AVFrame* rgba) {
  core::Picture picture(rgba->width, rgba->height);
  for (int y = 0; y < rgba->height; ++y) {
    std::memcpy(picture.at(0, y), rgba->data[0] + std::ptrdiff_t(y) * rgba->linesize[0], std::size_t(rgba->width) * 4);
  }
  return picture;
}

Frame allocated_frame(AVPixelFormat format, int width, int height) {
  Frame frame(av_frame_alloc());
  frame->format = format;
  frame->width = width;
  frame->height = height;
  if (av_frame_get_buffer(frame.get(), 0) < 0) return nullptr;
  return frame;
}

}  // namespace

namespace {

// Encodes `source` (any pixel format) as a PNG (RGB24, or RGBA when `alpha`) or JPEG.
core::Result<std::string> encode(const AVFrame* source, ImageFormat format, bool alpha) {
  if (source->width <= 0 || source->height <= 0) return core::make_error("cannot encode an empty picture");
  const AVCodec* codec = avcodec_find_encoder(format == ImageFormat::Png ? AV_CODEC_ID_PNG : AV_CODEC_ID_MJPEG);
  if (!codec) return core::make_error("this FFmpeg has no PNG or JPEG encoder");
  CodecContext context(avcodec_alloc_context3(codec));
  AVPixelFormat pixels = format == ImageFormat::Jpeg ? AV_PIX_FMT_YUVJ420P : alpha ? AV_PIX_FMT_RGBA : AV_PIX_FMT_RGB24;
  context->pix_fmt = pixels;
  context->width = source->width;
  context->height = source->height;
  context->time_base = {1, 25};
  context->thread_count = 1;
  if (format == ImageFormat::Png) {
    // zlib's fastest level: deflating a 720p frame at the default level took a quarter
    // of a /frame request, for files a fifth smaller.
    context->compression_level = 1;
  }
  if (format == ImageFormat::Jpeg) {
    context->flags |= AV_CODEC_FLAG_QSCALE;
    context->global_quality = FF_QP2LAMBDA * 2;
    context->color_range = AVCOL_RANGE_JPEG;
  }
  if (int rc = avcodec_open2(context.get(), codec, nullptr); rc < 0) {
    return core::make_error("cannot start the image encoder: " + av_error(rc));
  }
  Frame frame = allocated_frame(pixels, source->width, source->height);
  if (!frame) return core::make_error("out of memory encoding an image");
  if (auto converted = convert(source, frame.get(), SWS_BICUBIC | SWS_ACCURATE_RND); !converted) {
    return converted.error();
  }
  frame->quality = context->global_quality;
  frame->pts = 0;
  Packet packet(av_packet_alloc());
  if (int rc = avcodec_send_frame(context.get(), frame.get()); rc < 0) {
    return core::make_error("cannot encode an image: " + av_error(rc));
  }
  avcodec_send_frame(context.get(), nullptr);
  std::string out;
  while (avcodec_receive_packet(context.get(), packet.get()) == 0) {
    out.append(reinterpret_cast<const char*>(packet->data), std::size_t(packet->size));
    av_packet_unref(packet.get());
  }
  if (out.empty()) return core::make_error("the image encoder wrote nothing");
  return out;
}

}  // namespace

core::Result<std::string> encode_image(const core::Picture& picture, ImageFormat format) {
  if (picture.width <= 0 || picture.height <= 0) return core::make_error("cannot encode an empty picture");
  Frame source = rgba_frame(picture);
  return encode(source.get(), format, !opaque(picture));
}

core::Result<std::string> encode_frame(const AVFrame* frame, ImageFormat format) {
  return encode(frame, format, false);
}

core::Result<core::Picture> decode_png(std::string_view bytes, int max_side) {
  if (bytes.substr(0, kPngSignature.size()) != kPngSignature) {
    return core::make_error("not a PNG image (" + std::to_string(bytes.size()) + " bytes without PNG's signature)",
                            400);
  }
  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_PNG);
  if (!codec) return core::make_error("this FFmpeg has no PNG decoder");
  CodecContext context(avcodec_alloc_context3(codec));
  context->thread_count = 1;
  if (int rc = avcodec_open2(context.get(), codec, nullptr); rc < 0) {
    return core::make_error("cannot start the PNG decoder: " + av_error(rc));
  }
  Packet packet(av_packet_alloc());
  if (av_new_packet(packet.get(), int(bytes.size())) < 0) return core::make_error("out of memory reading a PNG");
  std::memcpy(packet->data, bytes.data(), bytes.size());
  Frame frame(av_frame_alloc());
  int rc = avcodec_send_packet(context.get(), packet.get());
  if (rc >= 0) rc = avcodec_receive_frame(context.get(), frame.get());
  if (rc < 0) return core::make_error("cannot read the PNG image: " + av_error(rc), 400);
  if (frame->width > max_side || frame->height > max_side) {
    return core::make_error("PNG image of " + std::to_string(frame->width) + "x" + std::to_string(frame->height) +
                                " is larger than " + std::to_string(max_side) + "x" + std::to_string(max_side),
                            400);
  }
  Frame rgba = allocated_frame(AV_PIX_FMT_RGBA, frame->width, frame->height);
  if (!rgba) return core::make_error("out of memory reading a PNG");
  if (auto converted = convert(frame.get(), rgba.get(), SWS_POINT); !converted) return converted.error();
  return picture_of(rgba.get());
}

core::Result<core::Picture> scale_picture(const core::Picture& picture, int width, int height) {
  if (width == picture.width && height == picture.height) return picture;
  Frame source = rgba_frame(picture);
  Frame scaled = allocated_frame(AV_PIX_FMT_RGBA, width, height);
  if (!scaled) return core::make_error("out of memory scaling a picture");
  if (auto converted = convert(source.get(), scaled.get(), SWS_LANCZOS | SWS_ACCURATE_RND); !converted) {
    return converted.error();
  }
  return picture_of(scaled.get());
}

core::Result<core::Picture> frame_to_picture(const AVFrame* frame) {
  Frame rgba = allocated_frame(AV_PIX_FMT_RGBA, frame->width, frame->height);
  if (!rgba) return core::make_error("out of memory converting a frame");
  if (auto converted = convert(frame, rgba.get(), SWS_BICUBIC); !converted) return converted.error();
  return picture_of(rgba.get());
}

}  // namespace wubd::media
