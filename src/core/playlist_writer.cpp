#include "wubd/core/playlist_writer.h"

#include <algorithm>
#include <charconv>

#include "wubd/core/url.h"

namespace wubd::core {
namespace {

// Playlists of a day's segments run to 40,000+ entries, so this file formats digits
// by hand instead of through snprintf, which dominated the profile.
void append_digits(std::string& out, long long value, int width) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = char('0' + value % 10);
    value /= 10;
  } while (value > 0 || n < width);
  while (n > 0) out += buf[--n];
}

void append_int(std::string& out, long long value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;
  out.append(buf, end);
}

void append_program_date_time(std::string& out, Micros t) {
  CivilTime c = to_civil(t);
  out += "#EXT-X-PROGRAM-DATE-TIME:";
  append_digits(out, c.year, 4);
  out += '-';
  append_digits(out, c.month, 2);
  out += '-';
  append_digits(out, c.day, 2);
  out += 'T';
  append_digits(out, c.hour, 2);
  out += ':';
  append_digits(out, c.minute, 2);
  out += ':';
  append_digits(out, c.second, 2);
  out += '.';
  append_digits(out, c.micros / 1000, 3);
  out += "Z\n";
}

// Seconds with three decimals, rounded to the nearest millisecond.
void append_extinf(std::string& out, Micros duration) {
  long long millis = (duration + 500) / 1000;
  out += "#EXTINF:";
  append_int(out, millis / 1000);
  out += '.';
  append_digits(out, millis % 1000, 3);
  out += ",\n";
}

// Quoted-string attribute values may not hold '"', CR or LF (RFC 8216 §4.2).
std::string quoted_attribute(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '"') {
      out += '\'';
    } else if (c != '\r' && c != '\n') {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::int64_t target_duration_seconds(const std::vector<SegmentOrHole>& segments) {
  std::int64_t target = 1;
  for (const StoredSegment* s : segments) {
    if (s) target = std::max<std::int64_t>(target, (s->name.duration + kMicrosPerSecond / 2) / kMicrosPerSecond);
  }
  return target;
}

std::string write_master_playlist(const std::vector<MasterVariant>& variants) {
  std::string out = "#EXTM3U\n";
  for (const MasterVariant& v : variants) {
    std::string name = quoted_attribute(v.name);
    out += "#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"" + name + "\",NAME=\"" + name +
           "\",AUTOSELECT=YES,DEFAULT=YES\n";
    out += "#EXT-X-STREAM-INF:BANDWIDTH=";
    append_int(out, std::max<std::int64_t>(v.bandwidth_bps, 1));
    out += ",VIDEO=\"" + name + "\"\n";
    out += v.uri;
    out += '\n';
  }
  return out;
}

std::string write_media_playlist(const std::vector<SegmentOrHole>& segments,
                                 std::string_view url_prefix) {
  std::string out;
  out.reserve(128 + segments.size() * (url_prefix.size() + 150));
  out += "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:";
  append_int(out, target_duration_seconds(segments));
  out += '\n';

  bool seen_segment = false;
  bool hole_pending = false;
  for (const StoredSegment* s : segments) {
    if (!s) {
      hole_pending = seen_segment;  // a leading hole is dropped
      continue;
    }
    if (hole_pending) out += "#EXT-X-DISCONTINUITY\n";
    hole_pending = false;
    seen_segment = true;
    append_program_date_time(out, s->name.start);
    append_extinf(out, s->name.duration);
    out += url_prefix;
    append_percent_encoded(out, s->hour);
    out += '/';
    append_percent_encoded(out, s->file_name);
    out += '\n';
  }
  if (!segments.empty() && segments.back() != nullptr) out += "#EXT-X-ENDLIST\n";
  return out;
}

}  // namespace wubd::core
