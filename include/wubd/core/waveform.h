#pragma once

#include <cstdint>
#include <vector>

#include "wubd/core/picture.h"
#include "wubd/core/time.h"

// /waveform's picture: the audio's amplitude over a range, one pixel column per
// slice of time, drawn as wubloader draws it (ffmpeg's showwavespic with scale=sqrt
// and colour #000000: each column a vertical line from the lowest to the highest
// sample in its slice, on a transparent background).
namespace wubd::core {

// Per column, the lowest and highest sample seen in its slice (-1..1, all channels),
// and whether any sample was seen at all.
struct Envelope {
  std::vector<float> low;
  std::vector<float> high;
  std::vector<bool> seen;

  explicit Envelope(int columns = 0)
      : low(std::size_t(columns), 0.f), high(std::size_t(columns), 0.f), seen(std::size_t(columns), false) {}
  int columns() const { return int(low.size()); }
  // Widens column `column` to hold `sample`.
  void add(int column, float sample);
  // Takes in what `other` (of the same columns) saw: the parts of one range read apart.
  void merge(const Envelope& other);
};

// The column of [start, end) split into `columns` equal slices that time `t` falls
// in, or -1 outside the range.
int envelope_column(Micros t, Micros start, Micros end, int columns);

// The envelope drawn: width = its columns, `height` pixels, the centre line being
// silence, amplitudes scaled by their square root as showwavespic's scale=sqrt does
// (quiet sounds stay visible). Columns nothing was heard in are left transparent.
Picture draw_waveform(const Envelope& envelope, int height);

}  // namespace wubd::core
