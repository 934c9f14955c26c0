// The Range header and query strings: never crash; a range served is inside the file;
// a query's parameters agree with query_values.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "fuzz_check.h"
#include "wubd/core/byte_range.h"
#include "wubd/core/url.h"

using namespace wubd::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The first 4 bytes are the file's size; the rest is both a Range header and a query.
  std::uint32_t file_size = 0;
  if (size >= 4) {
    std::memcpy(&file_size, data, 4);
    data += 4;
    size -= 4;
  }
  std::string_view text(reinterpret_cast<const char*>(data), size);
  RangeDecision range = decide_range(text, std::int64_t(file_size));
  if (range.outcome == RangeOutcome::Partial) {
    FUZZ_CHECK(
        range.range.first >= 0 && range.range.first <= range.range.last && range.range.last < std::int64_t(file_size),
        "a partial range outside the file");
  }
  if (range.outcome == RangeOutcome::Unsatisfiable) FUZZ_CHECK(text.substr(0, 6) == "bytes=", "416 for a non-range");
  (void)decide_range(std::nullopt, std::int64_t(file_size));

  auto query = parse_query(text);
  if (query) {
    for (const auto& [name, value] : *query) {
      auto values = query_values(text, name);
      FUZZ_CHECK(values && !values->empty() && values->front() == value,
                 "parse_query and query_values disagree on a parameter's first value");
    }
  }
  if (auto decoded = percent_decode(text)) {
    auto again = percent_decode(percent_encode(*decoded));
    FUZZ_CHECK(again && *again == *decoded, "percent_encode does not decode back");
  }
  return 0;
}
