// A peer's /files listing (JSON from the network): never crashes, and the names it
// yields, written back as a JSON array, parse to the same names.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "wubd/core/backfill_plan.h"

using namespace wubd::core;

namespace {

// JSON string escaping for the round trip (RFC 8259 7): the test's own, so that it
// does not check the parser against itself.
std::string json_array(const std::vector<std::string>& names) {
  std::string out = "[";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (unsigned char c : names[i]) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += char(c);
      } else if (c < 0x20) {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
        out += escaped;
      } else {
        out += char(c);
      }
    }
    out += '"';
  }
  return out + "]";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  auto names = parse_name_list(json);
  if (!names) return 0;
  auto again = parse_name_list(json_array(*names));
  FUZZ_CHECK(again && *again == *names, "names written back as JSON do not parse to the same names");
  return 0;
}
