#include "wubd/core/playlist_writer.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
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
    if (v.width > 0 && v.height > 0) {
      out += ",RESOLUTION=";
      append_int(out, v.width);
      out += 'x';
      append_int(out, v.height);
    }
    if (!v.codecs.empty()) {
      out += ",CODECS=\"";
      out += quoted_attribute(v.codecs);
      out += '"';
    }
    if (v.frame_rate > 0) {
      char rate[32];
      std::snprintf(rate, sizeof rate, ",FRAME-RATE=%.3f", v.frame_rate);
      out += rate;
    }
    out += ",VIDEO=\"";
    out += name;
    out += "\",NAME=\"";
    out += name;
    out += "\"\n";
    out += v.uri;
    out += '\n';
  }
  return out;
}

namespace {

// Whether `segment`'s file name is one parse_segment_name_view checked (the hash it
// returns is a view into the name it read, and listings keep it so). Such a name has
// one reserved character, the ':' of its time: TIME is MM:SS.ffffff, DURATION digits
// and '.', TYPE letters, HASH url-safe base64 (checked for every type but temp, which
// no playlist holds). Escaping it needs no look at its other 60-odd characters, which
// was an eighth of rendering a day-long playlist.
bool is_checked_name(const StoredSegment& segment) {
  std::string_view name = segment.file_name;
  std::string_view hash = segment.name.hash;
  constexpr std::string_view kSuffix = ".ts";
  return segment.name.type != SegmentType::Temp && name.size() > 3 && name[2] == ':' && !hash.empty() &&
         hash.data() + hash.size() + kSuffix.size() == name.data() + name.size();
}

// A segment's three lines, written straight into the playlist. The date's
// "YYYY-MM-DDTHH:" and the escaped hour directory are made once per hour: a day-long
// playlist is 43,200 segments of 24 hours, and formatting a full date and escaping
// the hour each time was most of what rendering cost.
class SegmentLines {
 public:
  explicit SegmentLines(std::string_view url_prefix) : url_prefix_(url_prefix) {}

  void append(std::string& out, const StoredSegment& segment) {
    Micros hour_start = floor_hour(segment.name.start);
    if (hour_start != date_hour_) set_date_hour(hour_start);
    Micros into_hour = segment.name.start - hour_start;
    char buf[96];
    char* p = buf;
    put_digits(p, into_hour / (60 * kMicrosPerSecond), 2);
    *p++ = ':';
    put_digits(p, into_hour / kMicrosPerSecond % 60, 2);
    *p++ = '.';
    put_digits(p, into_hour % kMicrosPerSecond / 1000, 3);
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
    out += date_prefix_;
    out.append(buf, p);
    out += url_prefix_;
    if (segment.hour != url_hour_) {
      url_hour_ = segment.hour;
      escaped_hour_.clear();
      append_percent_encoded(escaped_hour_, segment.hour);
      escaped_hour_ += '/';
    }
    out += escaped_hour_;
    if (is_checked_name(segment)) {
      out.append(segment.file_name.substr(0, 2));
      out += "%3A";
      out.append(segment.file_name.substr(3));
    } else {
      append_percent_encoded(out, segment.file_name);
    }
    out += '\n';
  }

 private:
  void set_date_hour(Micros hour_start) {
    date_hour_ = hour_start;
    CivilTime c = to_civil(hour_start);
    char buf[48];
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
    date_prefix_.assign(buf, p);
  }

  std::string_view url_prefix_;
  Micros date_hour_ = -1;
  std::string date_prefix_;  // "#EXT-X-PROGRAM-DATE-TIME:2026-11-21T04:"
  std::string url_hour_;     // the hour directory escaped_hour_ is for
  std::string escaped_hour_;
};

}  // namespace

std::string write_media_playlist(const std::vector<SegmentOrHole>& segments, std::string_view url_prefix) {
  LivePlaylistTags tags;
  tags.endlist = !segments.empty() && segments.back() != nullptr;
  return write_media_playlist(segments, url_prefix, tags);
}

std::string write_media_playlist(const std::vector<SegmentOrHole>& segments, std::string_view url_prefix,
                                 const LivePlaylistTags& tags) {
  constexpr std::string_view kDiscontinuity = "#EXT-X-DISCONTINUITY\n";
  std::string out = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:";
  append_int(out, std::max(tags.target_duration, target_duration_seconds(segments)));
  out += '\n';
  if (tags.media_sequence != 0) {
    out += "#EXT-X-MEDIA-SEQUENCE:";
    append_int(out, tags.media_sequence);
    out += '\n';
  }
  if (tags.discontinuity_sequence != 0) {
    out += "#EXT-X-DISCONTINUITY-SEQUENCE:";
    append_int(out, tags.discontinuity_sequence);
    out += '\n';
  }
  size_t bound = out.size() + 32;
  for (const SegmentOrHole& s : segments) {
    if (s) bound += kDiscontinuity.size() + 80 + url_prefix.size() + 3 * (s->hour.size() + s->file_name.size()) + 2;
  }
  out.reserve(bound);

  SegmentLines lines(url_prefix);
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
    lines.append(out, *s);
  }
  if (tags.endlist) out += "#EXT-X-ENDLIST\n";
  return out;
}

}  // namespace wubd::core
