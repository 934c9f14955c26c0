#include "wubd/core/playlist_writer.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "wubd/core/url.h"

namespace wubd::core {
namespace {

// Writes `value` zero-padded to `width` digits at `p`, advancing it.
void put_digits(char*& p, long long value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = char('0' + value % 10);
    value /= 10;
  }
  p += width;
}

void append_int(std::string& out, long long value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;
  out.append(buf, end);
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
  for (const SegmentOrHole& s : segments) {
    if (s) target = std::max<std::int64_t>(target, (s->name.duration + kMicrosPerSecond / 2) / kMicrosPerSecond);
  }
  return target;
}

std::string write_master_playlist(const std::vector<MasterVariant>& variants) {
  std::string out = "#EXTM3U\n";
  for (const MasterVariant& v : variants) {
    std::string name = quoted_attribute(v.name);
    out += "#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"";
    out += name;
    out += "\",NAME=\"";
    out += name;
    out += "\",AUTOSELECT=YES,DEFAULT=YES\n";
    out += "#EXT-X-STREAM-INF:BANDWIDTH=";
    append_int(out, std::max<std::int64_t>(v.bandwidth_bps, 1));
    out += ",VIDEO=\"" + name + "\"\n";
    out += v.uri;
    out += '\n';
  }
  return out;
}

void render_playlist_lines(StoredSegment& segment) {
  CivilTime c = to_civil(segment.name.start);
  char buf[96];
  char* p = buf;
  constexpr std::string_view kDateTag = "#EXT-X-PROGRAM-DATE-TIME:";
  std::memcpy(p, kDateTag.data(), kDateTag.size());
  p += kDateTag.size();
  put_digits(p, c.year, 4);
  *p++ = '-';
  put_digits(p, c.month, 2);
  *p++ = '-';
  put_digits(p, c.day, 2);
  *p++ = 'T';
  put_digits(p, c.hour, 2);
  *p++ = ':';
  put_digits(p, c.minute, 2);
  *p++ = ':';
  put_digits(p, c.second, 2);
  *p++ = '.';
  put_digits(p, c.micros / 1000, 3);
  constexpr std::string_view kExtinf = "Z\n#EXTINF:";
  std::memcpy(p, kExtinf.data(), kExtinf.size());
  p += kExtinf.size();
  // Seconds with three decimals, rounded to the nearest millisecond.
  long long millis = (segment.name.duration + 500) / 1000;
  p = std::to_chars(p, p + 24, millis / 1000).ptr;
  *p++ = '.';
  put_digits(p, millis % 1000, 3);
  *p++ = ',';
  *p++ = '\n';
  segment.playlist_tags.assign(buf, p);

  segment.url_tail.clear();
  append_percent_encoded(segment.url_tail, segment.hour);
  segment.url_tail += '/';
  append_percent_encoded(segment.url_tail, segment.file_name);
}

std::string write_media_playlist(const std::vector<SegmentOrHole>& segments, std::string_view url_prefix) {
  constexpr std::string_view kDiscontinuity = "#EXT-X-DISCONTINUITY\n";
  std::string out = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:";
  append_int(out, target_duration_seconds(segments));
  out += '\n';
  size_t bound = out.size() + 32;
  for (const SegmentOrHole& s : segments) {
    if (s) bound += kDiscontinuity.size() + 80 + url_prefix.size() + 3 * (s->hour.size() + s->file_name.size()) + 2;
  }
  out.reserve(bound);

  StoredSegment scratch;  // for segments whose lines were not rendered in advance
  bool seen_segment = false;
  bool hole_pending = false;
  for (const SegmentOrHole& s : segments) {
    if (!s) {
      hole_pending = seen_segment;  // a leading hole is dropped
      continue;
    }
    if (hole_pending) out += kDiscontinuity;
    hole_pending = false;
    seen_segment = true;
    const StoredSegment* rendered = s.get();
    if (s->playlist_tags.empty()) {
      scratch.name = s->name;
      scratch.hour = s->hour;
      scratch.file_name = s->file_name;
      render_playlist_lines(scratch);
      rendered = &scratch;
    }
    out += rendered->playlist_tags;
    out += url_prefix;
    out += rendered->url_tail;
    out += '\n';
  }
  if (!segments.empty() && segments.back() != nullptr) out += "#EXT-X-ENDLIST\n";
  return out;
}

}  // namespace wubd::core
