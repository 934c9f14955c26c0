#include "wubd/core/segment_name.h"

#include <cstdio>
#include <optional>

namespace wubd::core {
namespace {

Error bad_name(std::string_view name, std::string_view why) {
  return make_error("bad segment name \"" + std::string(name) + "\": " + std::string(why));
}

// Url-safe base64 alphabet (RFC 4648 §5). Hand-written because core carries no
// OpenSSL dependency, and OpenSSL's EVP_EncodeBlock only speaks the padded,
// non-url-safe alphabet anyway.
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int alphabet_index(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

std::string_view to_string(SegmentType type) {
  switch (type) {
    case SegmentType::Full:
      return "full";
    case SegmentType::Suspect:
      return "suspect";
    case SegmentType::Partial:
      return "partial";
    case SegmentType::Temp:
      return "temp";
  }
  return "full";
}

Result<Micros> parse_duration(std::string_view text) {
  if (text.empty()) return make_error("empty duration");
  Micros whole = 0;
  size_t pos = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    if (whole > 1'000'000'000) return make_error("duration too large: " + std::string(text));
    whole = whole * 10 + (text[pos++] - '0');
  }
  if (pos == 0) return make_error("duration is not a decimal number: " + std::string(text));
  Micros fraction = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    Micros scale = 100'000;
    int round_digit = -1;
    size_t first = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      int d = text[pos] - '0';
      if (scale > 0) {
        fraction += d * scale;
        scale /= 10;
      } else if (round_digit < 0) {
        round_digit = d;
      }
      ++pos;
    }
    if (pos == first) return make_error("duration has no digits after '.': " + std::string(text));
    if (round_digit >= 5) ++fraction;
  }
  if (pos != text.size()) return make_error("duration is not a decimal number: " + std::string(text));
  return whole * kMicrosPerSecond + fraction;
}

std::string format_duration(Micros duration) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%06lld", static_cast<long long>(duration / kMicrosPerSecond),
                static_cast<long long>(duration % kMicrosPerSecond));
  std::string s = buf;
  while (s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
  return s;
}

std::string encode_hash(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    std::uint32_t v = bytes[i] << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    std::uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

namespace {

// Why `text` is not a canonical url-safe base64 encoding, or nothing. Checks what
// decode_hash would without building the bytes: listings validate every name.
std::optional<std::string> hash_problem(std::string_view text) {
  if (text.size() % 4 == 1) {
    return "hash \"" + std::string(text) + "\" has an impossible base64 length";
  }
  for (char c : text) {
    if (alphabet_index(c) < 0) {
      return "hash \"" + std::string(text) + "\" is not url-safe base64 (character '" + std::string(1, c) + "')";
    }
  }
  // Leftover bits must be zero, or two spellings would decode to the same bytes.
  int leftover_bits = int(text.size() * 6 % 8);
  if (leftover_bits > 0 && (alphabet_index(text.back()) & ((1 << leftover_bits) - 1)) != 0) {
    return "hash \"" + std::string(text) + "\" has non-zero padding bits";
  }
  return std::nullopt;
}

}  // namespace

Result<std::vector<std::uint8_t>> decode_hash(std::string_view text) {
  if (auto why = hash_problem(text)) return make_error(*why);
  std::vector<std::uint8_t> out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    acc = (acc << 6) | std::uint32_t(alphabet_index(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(std::uint8_t((acc >> bits) & 0xff));
    }
  }
  return out;
}

Result<SegmentNameView> parse_segment_name_view(Micros hour_start, std::string_view file_name) {
  constexpr std::string_view kSuffix = ".ts";
  if (file_name.size() <= kSuffix.size() || file_name.substr(file_name.size() - kSuffix.size()) != kSuffix) {
    return bad_name(file_name, "does not end in .ts");
  }
  std::string_view stem = file_name.substr(0, file_name.size() - kSuffix.size());

  // TIME-DURATION-TYPE-HASH, split on the first three dashes (a hash may hold '-').
  std::string_view parts[4];
  for (int i = 0; i < 3; ++i) {
    size_t dash = stem.find('-');
    if (dash == std::string_view::npos) return bad_name(file_name, "not enough dashes");
    parts[i] = stem.substr(0, dash);
    stem.remove_prefix(dash + 1);
  }
  parts[3] = stem;

  // TIME: MM:SS.ffffff within the hour.
  std::string_view time = parts[0];
  auto two_digits = [](std::string_view s, size_t at, int& out) {
    if (at + 2 > s.size() || s[at] < '0' || s[at] > '9' || s[at + 1] < '0' || s[at + 1] > '9') {
      return false;
    }
    out = (s[at] - '0') * 10 + (s[at + 1] - '0');
    return true;
  };
  int minute = 0, second = 0;
  if (time.size() < 5 || !two_digits(time, 0, minute) || time[2] != ':' || !two_digits(time, 3, second) ||
      minute > 59 || second > 59) {
    return bad_name(file_name, "time is not MM:SS.ffffff");
  }
  Micros fraction = 0;
  if (time.size() > 5) {
    if (time[5] != '.' || time.size() < 7 || time.size() > 12) {
      return bad_name(file_name, "time is not MM:SS.ffffff");
    }
    Micros scale = 100'000;
    for (size_t i = 6; i < time.size(); ++i) {
      if (time[i] < '0' || time[i] > '9') return bad_name(file_name, "time is not MM:SS.ffffff");
      fraction += (time[i] - '0') * scale;
      scale /= 10;
    }
  }

  auto duration = parse_duration(parts[1]);
  if (!duration) return bad_name(file_name, duration.error().message);

  SegmentNameView segment;
  std::string_view type = parts[2];
  if (type == "full") {
    segment.type = SegmentType::Full;
  } else if (type == "suspect") {
    segment.type = SegmentType::Suspect;
  } else if (type == "partial") {
    segment.type = SegmentType::Partial;
  } else if (type == "temp") {
    segment.type = SegmentType::Temp;
  } else {
    return bad_name(file_name, "unknown type \"" + std::string(type) + "\"");
  }
  if (segment.type != SegmentType::Temp) {
    if (parts[3].empty()) return bad_name(file_name, "empty hash");
    if (auto why = hash_problem(parts[3])) return bad_name(file_name, *why);
  }
  segment.start = hour_start + (minute * 60 + second) * kMicrosPerSecond + fraction;
  segment.duration = *duration;
  segment.hash = parts[3];
  return segment;
}

Result<SegmentName> parse_segment_name(Micros hour_start, std::string_view file_name) {
  auto parsed = parse_segment_name_view(hour_start, file_name);
  if (!parsed) return parsed.error();
  return SegmentName{parsed->start, parsed->duration, parsed->type, std::string(parsed->hash)};
}

Result<SegmentName> parse_segment_path(std::string_view hour, std::string_view file_name) {
  auto hour_start = parse_hour(hour);
  if (!hour_start) return bad_name(file_name, hour_start.error().message);
  return parse_segment_name(*hour_start, file_name);
}

std::string format_segment_name(const SegmentName& segment) {
  return format_segment_name(SegmentNameView{segment.start, segment.duration, segment.type, segment.hash});
}

std::string format_segment_name(const SegmentNameView& segment) {
  Micros in_hour = segment.start - floor_hour(segment.start);
  char time[48];
  std::snprintf(time, sizeof time, "%02lld:%02lld.%06lld", static_cast<long long>(in_hour / (60 * kMicrosPerSecond)),
                static_cast<long long>(in_hour / kMicrosPerSecond % 60),
                static_cast<long long>(in_hour % kMicrosPerSecond));
  return std::string(time) + "-" + format_duration(segment.duration) + "-" + std::string(to_string(segment.type)) +
         "-" + std::string(segment.hash) + ".ts";
}

}  // namespace wubd::core
