#pragma once

#include <chrono>

#include "wubd/core/time.h"

namespace wubd::io {

// The wall clock as wubd times it (integer microseconds since the epoch, UTC). For
// segment times and records; intervals and timeouts use the loop's monotonic clock.
inline core::Micros wall_clock_now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace wubd::io
