#include "wubd/core/picture.h"

#include <algorithm>
#include <charconv>

namespace wubd::core {
namespace {

Result<int> parse_int(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return make_error("not an integer");
  return value;
}

}  // namespace

Result<Box> parse_box(std::string_view text, std::string_view what, int max_side) {
  int values[4];
  std::size_t at = 0;
  for (int i = 0; i < 4; ++i) {
    std::size_t comma = i < 3 ? text.find(',', at) : text.size();
    if (comma == std::string_view::npos || (i == 3 && text.find(',', at) != std::string_view::npos)) {
      return make_error("Bad " + std::string(what) + " \"" + std::string(text) +
                            "\": expected four comma-separated integers LEFT,TOP,RIGHT,BOTTOM",
                        400);
    }
    auto value = parse_int(text.substr(at, comma - at));
    if (!value) {
      return make_error("Bad " + std::string(what) + " \"" + std::string(text) + "\": \"" +
                            std::string(text.substr(at, comma - at)) + "\" is not an integer",
                        400);
    }
    values[i] = *value;
    at = comma + 1;
  }
  Box box{values[0], values[1], values[2], values[3]};
  if (box.width() <= 0 || box.height() <= 0) {
    return make_error("Bad " + std::string(what) + " \"" + std::string(text) +
                          "\": right must be greater than left and bottom greater than top",
                      400);
  }
  if (box.width() > max_side || box.height() > max_side) {
    return make_error("Bad " + std::string(what) + " \"" + std::string(text) + "\": at most " +
                          std::to_string(max_side) + " pixels a side",
                      400);
  }
  return box;
}

Result<std::pair<int, int>> parse_image_size(std::string_view text, int max_side) {
  std::size_t x = text.find('x');
  if (x == std::string_view::npos)
    return make_error("Invalid size \"" + std::string(text) + "\": expected WIDTHxHEIGHT", 400);
  auto width = parse_int(text.substr(0, x));
  auto height = parse_int(text.substr(x + 1));
  if (!width || !height) return make_error("Invalid size \"" + std::string(text) + "\": expected WIDTHxHEIGHT", 400);
  if (*width < 1 || *height < 1 || *width > max_side || *height > max_side) {
    return make_error("Image size must be between 1x1 and " + std::to_string(max_side) + "x" +
                          std::to_string(max_side) + " (got " + std::string(text) + ")",
                      400);
  }
  return std::pair{*width, *height};
}

Picture crop(const Picture& picture, const Box& box) {
  Picture out(box.width(), box.height());
  for (int y = 0; y < out.height; ++y) {
    int source_y = box.top + y;
    for (int x = 0; x < out.width; ++x) {
      int source_x = box.left + x;
      std::uint8_t* pixel = out.at(x, y);
      if (source_x < 0 || source_y < 0 || source_x >= picture.width || source_y >= picture.height) {
        // PIL crops a video frame (RGB) past its edges to black.
        pixel[3] = 255;
        continue;
      }
      std::copy_n(picture.at(source_x, source_y), 4, pixel);
    }
  }
  return out;
}

Picture compose_thumbnail(const Picture& template_picture, const Picture& frame, const Box& location) {
  Picture out(template_picture.width, template_picture.height);
  // The frame pasted at the location's top left (Image.paste, no mask: its pixels as
  // they are), clipped to the canvas.
  for (int y = 0; y < frame.height; ++y) {
    int to_y = location.top + y;
    if (to_y < 0 || to_y >= out.height) continue;
    for (int x = 0; x < frame.width; ++x) {
      int to_x = location.left + x;
      if (to_x < 0 || to_x >= out.width) continue;
      std::copy_n(frame.at(x, y), 4, out.at(to_x, to_y));
    }
  }
  // The template over it (Image.alpha_composite: "over", straight alpha).
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      const std::uint8_t* src = template_picture.at(x, y);
      std::uint8_t* dst = out.at(x, y);
      unsigned src_a = src[3];
      unsigned dst_a = dst[3];
      unsigned blend = dst_a * (255 - src_a);   // dst's weight, ×255
      unsigned out_a255 = src_a * 255 + blend;  // out alpha, ×255
      if (out_a255 == 0) {
        dst[0] = dst[1] = dst[2] = dst[3] = 0;
        continue;
      }
      for (int c = 0; c < 3; ++c) {
        unsigned value = (src[c] * src_a * 255 + dst[c] * blend + out_a255 / 2) / out_a255;
        dst[c] = std::uint8_t(std::min(value, 255u));
      }
      dst[3] = std::uint8_t((out_a255 + 127) / 255);
    }
  }
  return out;
}

}  // namespace wubd::core
