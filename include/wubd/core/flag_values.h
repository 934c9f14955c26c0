#pragma once

#include <string>
#include <string_view>

#include "wubd/core/result.h"
#include "wubd/core/time.h"

// Values of command-line flags that are more than a number: parsed strictly, so that
// a typo is an error naming the flag and the value at start, never a silent default.
namespace wubd::core {

// Where the HTTP server listens. `host` is empty for every interface.
struct ListenAddress {
  std::string host;  // an IPv4/IPv6 literal or a name to resolve; "" = all IPv4 interfaces
  int port = 0;      // 0 = any free port
};

// `HOST:PORT`, `[IPV6]:PORT`, `:PORT` or `PORT` (the last two: every interface, as
// nginx reads `listen 8000`). The port is 0..65535. Errors say what was wrong.
Result<ListenAddress> parse_listen_address(std::string_view text);

// `--source-limit SOURCE=N[,DELAY]`: at most N transfers at once from SOURCE, DELAY
// seconds (>= 0, decimal) between starts. N is a whole number >= 1.
struct SourceLimitFlag {
  std::string source;  // trailing slashes removed
  int max_concurrent = 1;
  Micros min_delay = 0;
};
Result<SourceLimitFlag> parse_source_limit(std::string_view text);

// A decimal number of seconds >= 0 (`2`, `0.5`), exactly; anything else is an error.
Result<Micros> parse_seconds(std::string_view text);

// A whole number in [min, max], in decimal digits only.
Result<long long> parse_whole_number(std::string_view text, long long min, long long max);

}  // namespace wubd::core
