#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wubd/core/result.h"
#include "wubd/core/time.h"

// The on-disk name of a segment: BASE/STREAM/VARIANT/HOUR/TIME-DURATION-TYPE-HASH.ts,
// shared with wubloader, so that nodes of both kinds can back each other up.
namespace wubd::core {

enum class SegmentType { Full, Suspect, Partial, Temp };

std::string_view to_string(SegmentType type);

// Durations in names come from the origin's EXTINF and are compared with this tolerance.
inline constexpr Micros kDurationTolerance = 10 * kMicrosPerMilli;

struct SegmentName {
  Micros start = 0;     // absolute start time
  Micros duration = 0;  // from the name's DURATION
  SegmentType type = SegmentType::Full;
  // The HASH part as written: url-safe base64 of the sha256 of the bytes, without
  // padding. For `temp` files it is a random id and means nothing.
  std::string hash;

  Micros end() const { return start + duration; }
};

// A parsed name whose hash is a view into the file name it was parsed from: what a
// listing keeps of each of the 1,800 segments of an hour (the names themselves live
// once, in the listing's text).
struct SegmentNameView {
  Micros start = 0;
  Micros duration = 0;
  SegmentType type = SegmentType::Full;
  std::string_view hash;

  Micros end() const { return start + duration; }
};

// Parses `TIME-DURATION-TYPE-HASH.ts` found in the directory of the hour starting at
// `hour_start`. TIME is `%M:%S.%f` within that hour (1-6 fractional digits).
// Errors say which part of the name is wrong.
Result<SegmentName> parse_segment_name(Micros hour_start, std::string_view file_name);
// The same, the hash a view into `file_name`.
Result<SegmentNameView> parse_segment_name_view(Micros hour_start, std::string_view file_name);

// Parses a name together with its hour directory name (`2026-11-21T04`).
Result<SegmentName> parse_segment_path(std::string_view hour, std::string_view file_name);

// The file name of a segment within its hour directory (format_hour(start)).
std::string format_segment_name(const SegmentName& segment);
std::string format_segment_name(const SegmentNameView& segment);

// `2.0`, `2.002`: the shortest decimal with at least one fractional digit, as
// Python's str(float) writes the durations wubloader puts in names.
std::string format_duration(Micros duration);

// Parses a non-negative decimal number of seconds (`2`, `2.0`, `2.002`) exactly,
// rounding digits beyond microseconds to the nearest microsecond.
Result<Micros> parse_duration(std::string_view text);

// Url-safe base64 without padding, the encoding of hashes in names.
std::string encode_hash(std::span<const std::uint8_t> bytes);
Result<std::vector<std::uint8_t>> decode_hash(std::string_view text);

}  // namespace wubd::core
