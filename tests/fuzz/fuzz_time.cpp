// The ISO 8601 time parser and its friends: never crash, and a time that parses
// formats (to the microsecond) to text that parses back to the same time.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "wubd/core/segment_name.h"
#include "wubd/core/time.h"

using namespace wubd::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto t = parse_time(text)) {
    auto again = parse_time(format_time_us(*t));
    FUZZ_CHECK(again && *again == *t, "format_time_us does not parse back to the same time");
  }
  if (auto hour = parse_hour(text)) {
    FUZZ_CHECK(*hour % kMicrosPerHour == 0, "an hour that is not on the hour");
    auto again = parse_hour(format_hour(*hour));
    FUZZ_CHECK(again && *again == *hour, "format_hour does not parse back");
  }
  if (auto d = parse_duration(text)) (void)d;
  return 0;
}
