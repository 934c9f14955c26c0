#pragma once

#include <string>
#include <string_view>

#include "wubd/core/picture.h"
#include "wubd/core/result.h"

extern "C" {
struct AVFrame;
}

// Still images with FFmpeg's libraries: PNG and JPEG encoding and PNG decoding
// (libavcodec), scaling and pixel format conversion (libswscale). All CPU work: the
// loop runs these in the threadpool. Single-threaded: no threads of their own.
namespace wubd::media {

enum class ImageFormat { Png, Jpeg };

// A picture as a PNG (RGB when it is wholly opaque, else RGBA) or a JPEG (quality
// close to ffmpeg's -q:v 2).
core::Result<std::string> encode_image(const core::Picture& picture, ImageFormat format);

// A PNG file's pixels as RGBA. Errors (400) say what is wrong: not a PNG at all, a
// PNG libavcodec cannot read, or one larger than `max_side` pixels a side.
core::Result<core::Picture> decode_png(std::string_view bytes, int max_side = 4096);

// `picture` resized to width x height with a Lanczos filter (PIL's LANCZOS, which
// wubloader's thumbnails use).
core::Result<core::Picture> scale_picture(const core::Picture& picture, int width, int height);

// A decoded video frame as RGBA, its colours converted as its colour space says
// (BT.709 for HD), as ffmpeg's own conversion does.
core::Result<core::Picture> frame_to_picture(const AVFrame* frame);

// A decoded video frame encoded as encode_image would encode its picture (opaque: RGB
// PNG), converted once, straight from its own pixel format.
core::Result<std::string> encode_frame(const AVFrame* frame, ImageFormat format);

}  // namespace wubd::media
