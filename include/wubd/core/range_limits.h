#pragma once

#include <optional>
#include <string>

#include "wubd/core/result.h"
#include "wubd/core/time.h"

// How much of the archive one request may ask for. A playlist or a cut costs memory
// and time in proportion to the segments it covers, so each is capped by a flag, and
// a request over the cap gets a 400 that names the flag instead of a body of
// hundreds of megabytes.
namespace wubd::core {

// A time range [start, end).
struct TimeRange {
  Micros start = 0;
  Micros end = 0;
  Micros span() const { return end - start; }
};

struct RangeCap {
  Micros max_span = 24 * kMicrosPerHour;
  std::string flag;  // the flag that sets it, named in errors: "--max-playlist-hours"
};

// A 400 naming the cap when `span` (of one range, or of several together) is longer
// than it allows; nothing otherwise.
std::optional<Error> check_range_cap(Micros span, const RangeCap& cap);

// The range a media playlist covers, from its optional `start` and `end` and the
// archive's extent (`available`: the first hour to the end of the last one):
// - both given: taken as they are, and must fit the cap;
// - no start: from at most the cap before the end (the newest part, as a live
//   window would show it; never before the archive's first hour);
// - a start but no end: to the end of the archive, and must fit the cap.
// A start at or after the end is returned as it is (an empty playlist, not an error).
Result<TimeRange> playlist_range(std::optional<Micros> start, std::optional<Micros> end, const TimeRange& available,
                                 const RangeCap& cap);

}  // namespace wubd::core
