// Segment and chat batch names: never crash, and a name that parses formats to a name
// that parses back to the same segment (and formats to itself from then on).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "wubd/core/hour_files.h"
#include "wubd/core/segment_name.h"
#include "wubd/core/time.h"

using namespace wubd::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first line, if any, is the hour directory; the rest the file name.
  std::string_view hour = "2026-11-21T04";
  if (auto newline = input.find('\n'); newline != std::string_view::npos && newline <= 32) {
    hour = input.substr(0, newline);
    input.remove_prefix(newline + 1);
  }
  auto parsed = parse_segment_path(hour, input);
  if (parsed) {
    auto hour_start = parse_hour(hour);
    FUZZ_CHECK(bool(hour_start), "a segment parsed in an hour that does not");
    std::string formatted = format_segment_name(*parsed);
    auto again = parse_segment_name(*hour_start, formatted);
    FUZZ_CHECK(bool(again), "a formatted name does not parse");
    FUZZ_CHECK(again->start == parsed->start && again->duration == parsed->duration && again->type == parsed->type &&
                   again->hash == parsed->hash,
               "a formatted name parses to another segment");
    FUZZ_CHECK(format_segment_name(*again) == formatted, "formatting is not stable");
    FUZZ_CHECK(parsed->start >= *hour_start && parsed->start < *hour_start + kMicrosPerHour,
               "a segment starts outside its hour");
  }
  if (auto hour_start = parse_hour(hour)) {
    if (auto batch = parse_chat_batch_name(*hour_start, input)) (void)batch;
  }
  return 0;
}
