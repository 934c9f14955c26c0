#include "wubd/core/waveform.h"

#include <algorithm>
#include <cmath>

namespace wubd::core {

void Envelope::add(int column, float sample) {
  std::size_t c = std::size_t(column);
  if (!seen[c]) {
    low[c] = high[c] = sample;
    seen[c] = true;
    return;
  }
  low[c] = std::min(low[c], sample);
  high[c] = std::max(high[c], sample);
}

void Envelope::merge(const Envelope& other) {
  for (int c = 0; c < std::min(columns(), other.columns()); ++c) {
    std::size_t i = std::size_t(c);
    if (!other.seen[i]) continue;
    add(c, other.low[i]);
    add(c, other.high[i]);
  }
}

int envelope_column(Micros t, Micros start, Micros end, int columns) {
  if (t < start || t >= end || end <= start) return -1;
  // 128-bit to be safe with long ranges in microseconds times thousands of columns.
  return int((__int128(t - start) * columns) / (end - start));
}

Picture draw_waveform(const Envelope& envelope, int height) {
  Picture picture(envelope.columns(), height);
  const double centre = (height - 1) / 2.0;  // full scale reaches the first and last rows
  auto row_of = [&](float sample) {
    // sqrt keeps the sign: a negative sample goes below the centre line.
    double scaled = std::copysign(std::sqrt(std::min(1.0, double(std::fabs(sample)))), double(sample));
    int row = int(std::lround(centre - scaled * centre));
    return std::clamp(row, 0, height - 1);
  };
  for (int x = 0; x < envelope.columns(); ++x) {
    std::size_t i = std::size_t(x);
    if (!envelope.seen[i]) continue;
    int top = row_of(envelope.high[i]);
    int bottom = row_of(envelope.low[i]);
    for (int y = top; y <= bottom; ++y) picture.at(x, y)[3] = 255;  // black, opaque
  }
  return picture;
}

}  // namespace wubd::core
