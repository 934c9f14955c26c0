#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

// The `Range` request header for one file (RFC 9110 §14): one byte range is served as
// 206; several ranges, other units and malformed headers are ignored (the whole file,
// 200), as the RFC allows; a range entirely past the end is 416.
namespace wubd::core {

struct ByteRange {
  std::int64_t first = 0;
  std::int64_t last = 0;  // inclusive
  std::int64_t length() const { return last - first + 1; }
};

enum class RangeOutcome { Whole, Partial, Unsatisfiable };

struct RangeDecision {
  RangeOutcome outcome = RangeOutcome::Whole;
  ByteRange range;  // set for Partial
};

RangeDecision decide_range(std::optional<std::string_view> header, std::int64_t size);

}  // namespace wubd::core
