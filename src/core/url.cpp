#include "wubd/core/url.h"

#include <cstring>

namespace wubd::core {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

constexpr char kHex[] = "0123456789ABCDEF";

}  // namespace

Result<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '%') {
      out += c;
      continue;
    }
    int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
    int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return make_error("bad percent-escape in \"" + std::string(text) + "\"", 400);
    }
    out += char(hi * 16 + lo);
    i += 2;
  }
  return out;
}

char* put_percent_encoded(char* out, std::string_view text) {
  // Copies runs of unreserved characters whole: segment names have one or two
  // characters to escape in 80.
  size_t run_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (is_unreserved(c)) continue;
    std::memcpy(out, text.data() + run_start, i - run_start);
    out += i - run_start;
    *out++ = '%';
    *out++ = kHex[c >> 4];
    *out++ = kHex[c & 15];
    run_start = i + 1;
  }
  std::memcpy(out, text.data() + run_start, text.size() - run_start);
  return out + (text.size() - run_start);
}

void append_percent_encoded(std::string& out, std::string_view text) {
  size_t old_size = out.size();
  out.resize(old_size + 3 * text.size());
  char* end = put_percent_encoded(out.data() + old_size, text);
  out.resize(size_t(end - out.data()));
}

std::string percent_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  append_percent_encoded(out, text);
  return out;
}

Result<QueryParams> parse_query(std::string_view query) {
  QueryParams params;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view raw_name = pair.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    auto name = percent_decode(raw_name);
    if (!name) return make_error("bad query parameter name: " + name.error().message, 400);
    auto value = percent_decode(raw_value);
    if (!value) return make_error("bad value for " + *name + ": " + value.error().message, 400);
    params.emplace(std::move(*name), std::move(*value));
  }
  return params;
}

Result<std::vector<std::string>> query_values(std::string_view query, std::string_view name) {
  std::vector<std::string> values;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    size_t eq = pair.find('=');
    auto decoded_name = percent_decode(pair.substr(0, eq));
    if (!decoded_name || *decoded_name != name) continue;
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!value) return make_error("bad value for " + std::string(name) + ": " + value.error().message, 400);
    values.push_back(std::move(*value));
  }
  return values;
}

}  // namespace wubd::core
