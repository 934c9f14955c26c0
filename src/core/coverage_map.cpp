#include "wubd/core/coverage_map.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string_view>

namespace wubd::core {
namespace {

struct Rgb {
  std::uint8_t r, g, b;
};
// matplotlib's tab:blue and tab:orange, which wubloader's maps use.
constexpr Rgb kFull{0x1f, 0x77, 0xb4};
constexpr Rgb kIncomplete{0xff, 0x7f, 0x0e};
constexpr Rgb kNone{0xff, 0xff, 0xff};
constexpr Rgb kInk{0x20, 0x20, 0x20};

Rgb colour_of(PixelCoverage state) {
  switch (state) {
    case PixelCoverage::Full:
      return kFull;
    case PixelCoverage::Incomplete:
      return kIncomplete;
    case PixelCoverage::None:
      break;
  }
  return kNone;
}

// The labels' letters, 5x7 pixels each, a row a string. Hand-drawn rather than
// rendered with FreeType: the map needs some twenty characters, and a font file read
// at run time would make a PNG depend on what the machine has installed.
struct Glyph {
  char c;
  const char* rows[7];
};
constexpr Glyph kGlyphs[] = {
    {'0', {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."}},
    {'1', {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'2', {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"}},
    {'3', {"####.", "....#", "....#", ".###.", "....#", "....#", "####."}},
    {'4', {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."}},
    {'5', {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."}},
    {'6', {".###.", "#....", "#....", "####.", "#...#", "#...#", ".###."}},
    {'7', {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."}},
    {'8', {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."}},
    {'9', {".###.", "#...#", "#...#", ".####", "....#", "....#", ".###."}},
    {'-', {".....", ".....", ".....", "#####", ".....", ".....", "....."}},
    {':', {".....", "..#..", ".....", ".....", ".....", "..#..", "....."}},
    {'A', {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}},
    {'C', {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."}},
    {'E', {"#####", "#....", "#....", "####.", "#....", "#....", "#####"}},
    {'F', {"#####", "#....", "#....", "####.", "#....", "#....", "#...."}},
    {'G', {".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".###."}},
    {'I', {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'L', {"#....", "#....", "#....", "#....", "#....", "#....", "#####"}},
    {'N', {"#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#", "#...#"}},
    {'O', {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
    {'P', {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."}},
    {'R', {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"}},
    {'S', {".####", "#....", "#....", ".###.", "....#", "....#", "####."}},
    {'T', {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}},
    {'U', {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
    {'V', {"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."}},
};

void set(Picture& picture, int x, int y, Rgb colour) {
  if (x < 0 || y < 0 || x >= picture.width || y >= picture.height) return;
  std::uint8_t* p = picture.at(x, y);
  p[0] = colour.r, p[1] = colour.g, p[2] = colour.b, p[3] = 255;
}

// Writes `text` with its top left at (x, y); returns where the next letter would go.
int write(Picture& picture, int x, int y, std::string_view text) {
  for (char c : text) {
    for (const Glyph& glyph : kGlyphs) {
      if (glyph.c != c) continue;
      for (int row = 0; row < 7; ++row) {
        for (int col = 0; col < 5; ++col) {
          if (glyph.rows[row][col] == '#') set(picture, x + col, y + row, kInk);
        }
      }
    }
    x += 6;
  }
  return x;
}

void box(Picture& picture, int x, int y, int size, Rgb fill) {
  for (int dy = 0; dy < size; ++dy) {
    for (int dx = 0; dx < size; ++dx) {
      bool edge = dx == 0 || dy == 0 || dx == size - 1 || dy == size - 1;
      set(picture, x + dx, y + dy, edge ? kInk : fill);
    }
  }
}

// "HH" for an hour boundary's label; "MM-DD" above a midnight.
std::string hour_label(Micros t) {
  CivilTime c = to_civil(t);
  char text[8];
  if (c.hour == 0) {
    std::snprintf(text, sizeof text, "%02d-%02d", c.month % 100, c.day % 100);
  } else {
    std::snprintf(text, sizeof text, "%02d", c.hour % 100);
  }
  return text;
}

int columns_of(const Coverage& coverage, const CoverageMapLayout& layout) {
  Micros column = layout.pixel * layout.rows;
  return int((coverage.range.span() + column - 1) / column);
}

// The legend's entries: a colour and its words.
constexpr std::pair<Rgb, std::string_view> kLegend[] = {
    {kFull, "FULL"}, {kIncomplete, "PARTIAL OR SUSPECT"}, {kNone, "NO COVERAGE"}};

}  // namespace

std::pair<int, int> CoverageMapLayout::place(const TimeRange& range, Micros t) const {
  if (t < range.start || t >= range.end) return {-1, -1};
  Micros index = (t - range.start) / pixel;
  return {int(index / rows) * column_width, top + int(index % rows)};
}

CoverageMapLayout coverage_map_layout(const TimeRange& range) {
  CoverageMapLayout layout;
  layout.column_width = range.span() <= 2 * 24 * kMicrosPerHour ? 4 : range.span() <= 7 * 24 * kMicrosPerHour ? 2 : 1;
  return layout;
}

Picture draw_coverage_map(const Coverage& coverage, const CoverageMapLayout& layout) {
  const int columns = std::max(1, columns_of(coverage, layout));
  int legend_width = 2;
  for (const auto& [colour, words] : kLegend) legend_width += 11 + 6 * int(words.size()) + 8;
  Picture picture(std::max(columns * layout.column_width, legend_width), layout.top + layout.rows + layout.bottom);
  for (int y = 0; y < picture.height; ++y) {
    for (int x = 0; x < picture.width; ++x) set(picture, x, y, kNone);
  }
  std::vector<PixelCoverage> pixels = coverage_pixels(coverage, layout.pixel);
  for (std::size_t i = 0; i < pixels.size(); ++i) {
    int column = int(i) / layout.rows;
    int row = int(i) % layout.rows;
    for (int dx = 0; dx < layout.column_width; ++dx) {
      set(picture, column * layout.column_width + dx, layout.top + row, colour_of(pixels[i]));
    }
  }
  // Hour labels where there is room for them: every hour at 4 pixels a column, every
  // 6 hours at 2, every day at 1.
  const int every = layout.column_width >= 4 ? 1 : layout.column_width >= 2 ? 6 : 24;
  for (Micros hour = floor_hour(coverage.range.start); hour < coverage.range.end; hour += kMicrosPerHour) {
    if (hour < coverage.range.start || to_civil(hour).hour % every != 0) continue;
    int x = layout.place(coverage.range, hour).first;
    write(picture, x, 2, hour_label(hour));
  }
  int x = 2;
  const int y = layout.top + layout.rows + 3;
  for (const auto& [colour, words] : kLegend) {
    box(picture, x, y, 8, colour);
    x = write(picture, x + 11, y, words) + 8;
  }
  return picture;
}

std::string coverage_map_svg(const Coverage& coverage, const CoverageMapLayout& layout) {
  const int columns = std::max(1, columns_of(coverage, layout));
  const int width = std::max(columns * layout.column_width, 300);
  const int height = layout.top + layout.rows + layout.bottom;
  std::string out;
  auto put = [&out](std::initializer_list<std::string_view> pieces) {
    for (std::string_view piece : pieces) out += piece;
  };
  auto hex = [](Rgb c) {
    char text[8];
    std::snprintf(text, sizeof text, "#%02x%02x%02x", c.r, c.g, c.b);
    return std::string(text);
  };
  using std::to_string;
  put({"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", to_string(width), "\" height=\"", to_string(height),
       "\" font-family=\"sans-serif\" font-size=\"9\">\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"});
  // One rectangle per stretch of a column in one state (white is the background).
  std::vector<PixelCoverage> pixels = coverage_pixels(coverage, layout.pixel);
  for (std::size_t i = 0; i < pixels.size();) {
    std::size_t j = i;
    int column = int(i) / layout.rows;
    while (j < pixels.size() && pixels[j] == pixels[i] && int(j) / layout.rows == column) ++j;
    if (pixels[i] != PixelCoverage::None) {
      put({"<rect x=\"", to_string(column * layout.column_width), "\" y=\"",
           to_string(layout.top + int(i) % layout.rows), "\" width=\"", to_string(layout.column_width), "\" height=\"",
           to_string(j - i), "\" fill=\"", hex(colour_of(pixels[i])), "\"/>\n"});
    }
    i = j;
  }
  const int every = layout.column_width >= 4 ? 1 : layout.column_width >= 2 ? 6 : 24;
  for (Micros hour = floor_hour(coverage.range.start); hour < coverage.range.end; hour += kMicrosPerHour) {
    if (hour < coverage.range.start || to_civil(hour).hour % every != 0) continue;
    put({"<text x=\"", to_string(layout.place(coverage.range, hour).first), "\" y=\"9\">", hour_label(hour),
         "</text>\n"});
  }
  int x = 2;
  const int y = layout.top + layout.rows + 3;
  for (const auto& [colour, words] : kLegend) {
    put({"<rect x=\"", to_string(x), "\" y=\"", to_string(y), "\" width=\"8\" height=\"8\" fill=\"", hex(colour),
         "\" stroke=\"#202020\"/>\n<text x=\"", to_string(x + 11), "\" y=\"", to_string(y + 8), "\">", words,
         "</text>\n"});
    x += 11 + 6 * int(words.size()) + 8;
  }
  out += "</svg>\n";
  return out;
}

}  // namespace wubd::core
