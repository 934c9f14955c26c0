#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wubd/core/result.h"

// Pictures as plain pixels, for what the restreamer draws and composes itself
// (thumbnails, waveforms): 8-bit RGBA, rows top to bottom, no padding. Decoding and
// encoding (PNG, JPEG) and scaling are the media library's (libavcodec, libswscale);
// what is done to the pixels in between is here, pure and tested directly.
namespace wubd::core {

struct Picture {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> rgba;  // width * height * 4 bytes

  Picture() = default;
  Picture(int w, int h) : width(w), height(h), rgba(std::size_t(w) * std::size_t(h) * 4, 0) {}
  std::uint8_t* at(int x, int y) { return rgba.data() + (std::size_t(y) * std::size_t(width) + std::size_t(x)) * 4; }
  const std::uint8_t* at(int x, int y) const {
    return rgba.data() + (std::size_t(y) * std::size_t(width) + std::size_t(x)) * 4;
  }
};

// A box [left, top, right, bottom) in pixels, as wubloader's crop and location are.
struct Box {
  int left = 0, top = 0, right = 0, bottom = 0;
  int width() const { return right - left; }
  int height() const { return bottom - top; }
};

// "L,T,R,B": four integers; `what` names the parameter in errors (400). Right must be
// after left and bottom below top, and the box at most `max_side` on each side.
Result<Box> parse_box(std::string_view text, std::string_view what, int max_side = 4096);

// `WIDTHxHEIGHT`, each 1..`max_side` (400 naming `what` otherwise): wubloader's
// "Invalid size" and "Image size must be between 1x1 and 4096x4096".
Result<std::pair<int, int>> parse_image_size(std::string_view text, int max_side = 4096);

// The region `box` of `picture`, as PIL's Image.crop gives it: parts outside the
// picture are transparent black.
Picture crop(const Picture& picture, const Box& box);

// wubloader's thumbnail (common/images.py): a transparent canvas the template's size,
// `frame` (already cropped and scaled to the location's size) pasted at `location`'s
// top left, and the template laid over it with its alpha (Pillow's alpha_composite).
Picture compose_thumbnail(const Picture& template_picture, const Picture& frame, const Box& location);

}  // namespace wubd::core
