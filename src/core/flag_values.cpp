#include "wubd/core/flag_values.h"

#include <charconv>

#include "wubd/core/segment_name.h"

namespace wubd::core {

Result<long long> parse_whole_number(std::string_view text, long long min, long long max) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size()) {
    return make_error("\"" + std::string(text) + "\" is not a whole number");
  }
  if (ec == std::errc::result_out_of_range || value > max) {
    return make_error("must be at most " + std::to_string(max) + ", not " + std::string(text));
  }
  if (value < min) return make_error("must be at least " + std::to_string(min) + ", not " + std::string(text));
  return value;
}

Result<Micros> parse_seconds(std::string_view text) {
  auto seconds = parse_duration(text);  // digits, an optional fraction: nothing else
  if (!seconds) return make_error("\"" + std::string(text) + "\" is not a number of seconds");
  return *seconds;
}

Result<ListenAddress> parse_listen_address(std::string_view text) {
  ListenAddress address;
  std::string_view port_text = text;
  if (!text.empty() && text[0] == '[') {
    std::size_t close = text.find("]:");
    if (close == std::string_view::npos || close == 1) {
      return make_error("\"" + std::string(text) + "\": expected [IPV6]:PORT");
    }
    address.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else if (std::size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    address.host = std::string(text.substr(0, colon));
    if (address.host.find(':') != std::string::npos) {
      return make_error("\"" + std::string(text) + "\": an IPv6 address needs brackets, [::1]:8000");
    }
    port_text = text.substr(colon + 1);
  }
  auto port = parse_whole_number(port_text, 0, 65535);
  if (!port) return make_error("\"" + std::string(text) + "\": bad port: " + port.error().message);
  address.port = int(*port);
  return address;
}

Result<SourceLimitFlag> parse_source_limit(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return make_error("\"" + std::string(text) + "\": " + why + " (expected SOURCE=N[,DELAY_SECONDS] with N >= 1)");
  };
  std::size_t eq = text.rfind('=');
  if (eq == std::string_view::npos || eq == 0) return bad("no SOURCE=");
  SourceLimitFlag limit;
  limit.source = std::string(text.substr(0, eq));
  while (!limit.source.empty() && limit.source.back() == '/') limit.source.pop_back();
  std::string_view value = text.substr(eq + 1);
  std::size_t comma = value.find(',');
  auto n = parse_whole_number(value.substr(0, comma), 1, 1'000'000);
  if (!n) return bad("N: " + n.error().message);
  limit.max_concurrent = int(*n);
  if (comma != std::string_view::npos) {
    auto delay = parse_seconds(value.substr(comma + 1));
    if (!delay) return bad("DELAY: " + delay.error().message);
    limit.min_delay = *delay;
  }
  return limit;
}

}  // namespace wubd::core
