#include "wubd/core/url.h"

#include <array>
#include <cstring>
#include <optional>

namespace wubd::core {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// A table: a day-long playlist escapes 43,200 file names, 2.8 MB of characters.
constexpr auto kUnreserved = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) table[std::size_t(c)] = unreserved((unsigned char)c);
  return table;
}();

bool is_unreserved(unsigned char c) { return kUnreserved[c]; }

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
  // A file name (at most 255 bytes) is escaped on the stack and appended: growing the
  // string by the worst case first would zero 3 bytes for every one written.
  if (char buffer[768]; text.size() * 3 <= sizeof buffer) {
    out.append(buffer, put_percent_encoded(buffer, text));
    return;
  }
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

namespace {

// The `name=value` pairs of a query, still encoded, in order; empty pairs (`a=1&&b=2`)
// skipped. parse_query and query_values share it, so they never disagree on a pair.
struct RawPair {
  std::string_view name;
  std::string_view value;
};

template <typename Visit>
void for_each_pair(std::string_view query, Visit visit) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    if (!visit(RawPair{pair.substr(0, eq), eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1)})) {
      return;
    }
  }
}

}  // namespace

Result<QueryParams> parse_query(std::string_view query) {
  QueryParams params;
  std::optional<Error> error;
  for_each_pair(query, [&](RawPair pair) {
    auto name = percent_decode(pair.name);
    if (!name) {
      error = make_error("bad query parameter name: " + name.error().message, 400);
      return false;
    }
    auto value = percent_decode(pair.value);
    if (!value) {
      error = make_error("bad value for " + *name + ": " + value.error().message, 400);
      return false;
    }
    params.emplace(std::move(*name), std::move(*value));
    return true;
  });
  if (error) return *error;
  return params;
}

Result<std::vector<std::string>> query_values(std::string_view query, std::string_view name) {
  std::vector<std::string> values;
  std::optional<Error> error;
  for_each_pair(query, [&](RawPair pair) {
    auto decoded_name = percent_decode(pair.name);
    if (!decoded_name || *decoded_name != name) return true;
    auto value = percent_decode(pair.value);
    if (!value) {
      error = make_error("bad value for " + std::string(name) + ": " + value.error().message, 400);
      return false;
    }
    values.push_back(std::move(*value));
    return true;
  });
  if (error) return *error;
  return values;
}

}  // namespace wubd::core
