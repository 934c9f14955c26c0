#include "wubd/core/hls_playlist.h"

#include <charconv>
#include <map>
#include <set>

#include "wubd/core/segment_name.h"

namespace wubd::core {
namespace {

// Lines of a body, without CR/LF, blank ones skipped, with their 1-based number.
struct Line {
  std::size_t number;
  std::string_view text;
};

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  std::size_t number = 0;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (!line.empty()) lines.push_back({number, line});
  }
  return lines;
}

// `#TAG:VALUE` → ("TAG", "VALUE"); `#TAG` → ("TAG", ""). Tags are compared whole,
// so EXT-X-DISCONTINUITY-SEQUENCE is never taken for EXT-X-DISCONTINUITY.
std::pair<std::string_view, std::string_view> split_tag(std::string_view line) {
  line.remove_prefix(1);
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return {line, {}};
  return {line.substr(0, colon), line.substr(colon + 1)};
}

Error line_error(const Line& line, std::string_view what) {
  std::string quoted(line.text.substr(0, 80));
  return make_error("line " + std::to_string(line.number) + ": " + std::string(what) + " (\"" + quoted +
                    (line.text.size() > 80 ? "…" : "") + "\")");
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// A Twitch stitched-ad DATERANGE as a range of time; nullopt for other DATERANGEs.
// Without DURATION or END-DATE the ad's length is unknown: it marks nothing by date
// (Twitch always sends DURATION; the segments' titles still mark them).
std::optional<HlsAdRange> ad_range(const HlsAttributes& attributes) {
  const std::string* cls = find_attribute(attributes, "CLASS");
  const std::string* id = find_attribute(attributes, "ID");
  bool ad = (cls && *cls == "twitch-stitched-ad") || (id && id->rfind("stitched-ad-", 0) == 0);
  const std::string* start_text = find_attribute(attributes, "START-DATE");
  if (!ad || !start_text) return std::nullopt;
  auto start = parse_time(*start_text);
  if (!start) return std::nullopt;
  if (const std::string* duration = find_attribute(attributes, "DURATION")) {
    if (auto d = parse_duration(*duration)) return HlsAdRange{*start, *start + *d};
  }
  if (const std::string* end_text = find_attribute(attributes, "END-DATE")) {
    if (auto end = parse_time(*end_text); end && *end > *start) return HlsAdRange{*start, *end};
  }
  return std::nullopt;
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<HlsByteRange> parse_byterange(std::string_view text) {
  HlsByteRange range;
  std::size_t at = text.find('@');
  auto length = parse_integer(text.substr(0, at));
  if (!length || *length < 0) return std::nullopt;
  range.length = *length;
  if (at != std::string_view::npos) {
    auto offset = parse_integer(text.substr(at + 1));
    if (!offset || *offset < 0) return std::nullopt;
    range.offset = *offset;
  }
  return range;
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

}  // namespace

const std::string* find_attribute(const HlsAttributes& attributes, std::string_view key) {
  for (const auto& [name, value] : attributes) {
    if (name == key) return &value;
  }
  return nullptr;
}

Result<HlsAttributes> parse_attributes(std::string_view text) {
  HlsAttributes attributes;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t eq = text.find('=', i);
    if (eq == std::string_view::npos || eq == i) {
      return make_error("attribute without a name or '=' at column " + std::to_string(i + 1));
    }
    std::string name(text.substr(i, eq - i));
    std::size_t value_start = eq + 1;
    std::string value;
    std::size_t next;
    if (value_start < text.size() && text[value_start] == '"') {
      std::size_t close = text.find('"', value_start + 1);
      if (close == std::string_view::npos) return make_error("unterminated quoted value of " + name);
      value = std::string(text.substr(value_start + 1, close - value_start - 1));
      next = close + 1;
      if (next < text.size() && text[next] != ',') {
        return make_error("unexpected text after the quoted value of " + name);
      }
    } else {
      next = text.find(',', value_start);
      if (next == std::string_view::npos) next = text.size();
      value = std::string(text.substr(value_start, next - value_start));
    }
    attributes.emplace_back(std::move(name), std::move(value));
    i = next + 1;
  }
  return attributes;
}

// Over 100 lines on purpose: one pass over a playlist's lines with a case per tag (RFC
// 8216 4.3), each a few lines: the tag list reads as the RFC's.
// NOLINTNEXTLINE(readability-function-size)
Result<Playlist> parse_playlist(std::string_view text) {
  if (starts_with(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<Line> lines = split_lines(text);
  if (lines.empty()) return make_error("empty body: not a playlist");
  if (lines[0].text != "#EXTM3U") return line_error(lines[0], "not a playlist: the first line must be #EXTM3U");

  Playlist playlist;
  MasterPlaylist& master = playlist.master;
  MediaPlaylist& media = playlist.media;
  bool saw_master = false;
  bool saw_media = false;

  // State of the entry being read: tags apply to the next URI line.
  std::optional<HlsVariant> pending_variant;
  std::optional<HlsSegment> pending_segment;
  const Line* pending_line = nullptr;
  bool next_discontinuity = false;
  std::optional<Micros> next_program_date_time;
  std::optional<HlsByteRange> next_byterange;
  std::string map_uri;
  bool in_cue_out = false;

  for (std::size_t n = 1; n < lines.size(); ++n) {
    const Line& line = lines[n];
    if (line.text[0] != '#') {
      // A URI line. Control characters mean a binary or corrupt body, not a URI.
      for (unsigned char c : line.text) {
        if (c < 0x20 || c == 0x7f) return line_error(line, "URI contains control characters");
      }
      if (pending_variant) {
        pending_variant->uri = std::string(line.text);
        master.variants.push_back(std::move(*pending_variant));
        pending_variant.reset();
      } else if (pending_segment) {
        HlsSegment& segment = *pending_segment;
        segment.uri = std::string(line.text);
        segment.discontinuity = next_discontinuity;
        segment.program_date_time = next_program_date_time;
        segment.byterange = next_byterange;
        segment.map_uri = map_uri;
        // Twitch has been seen marking stretches whose segments stay `live`: the title
        // says more than the markers around it.
        segment.ad = segment.ad || (in_cue_out && segment.title != "live");
        media.segments.push_back(std::move(segment));
        pending_segment.reset();
        next_discontinuity = false;
        next_program_date_time.reset();
        next_byterange.reset();
      } else {
        return line_error(line, "URI without a preceding #EXTINF or #EXT-X-STREAM-INF");
      }
      pending_line = nullptr;
      continue;
    }
    if (!starts_with(line.text, "#EXT")) continue;  // a comment
    auto [tag, value] = split_tag(line.text);
    if (pending_line && (tag == "EXTINF" || tag == "EXT-X-STREAM-INF")) {
      return line_error(*pending_line, "entry has no URI");
    }
    if (tag == "EXT-X-STREAM-INF") {
      saw_master = true;
      auto attributes = parse_attributes(value);
      if (!attributes) return line_error(line, "bad EXT-X-STREAM-INF: " + attributes.error().message);
      HlsVariant variant;
      variant.attributes = std::move(*attributes);
      const std::string* bandwidth = find_attribute(variant.attributes, "BANDWIDTH");
      if (bandwidth) {
        auto bps = parse_integer(*bandwidth);
        if (!bps || *bps < 0) return line_error(line, "bad BANDWIDTH");
        variant.bandwidth_bps = bps;
      }
      if (auto* v = find_attribute(variant.attributes, "RESOLUTION")) variant.resolution = *v;
      if (auto* v = find_attribute(variant.attributes, "CODECS")) variant.codecs = *v;
      if (auto* v = find_attribute(variant.attributes, "VIDEO")) variant.video_group = *v;
      pending_variant = std::move(variant);
      pending_line = &line;
    } else if (tag == "EXT-X-MEDIA") {
      saw_master = true;
      auto attributes = parse_attributes(value);
      if (!attributes) return line_error(line, "bad EXT-X-MEDIA: " + attributes.error().message);
      HlsRendition rendition;
      rendition.attributes = std::move(*attributes);
      if (auto* v = find_attribute(rendition.attributes, "TYPE")) rendition.type = *v;
      if (auto* v = find_attribute(rendition.attributes, "GROUP-ID")) rendition.group_id = *v;
      if (auto* v = find_attribute(rendition.attributes, "NAME")) rendition.name = *v;
      if (auto* v = find_attribute(rendition.attributes, "URI")) rendition.uri = *v;
      master.renditions.push_back(std::move(rendition));
    } else if (tag == "EXTINF") {
      saw_media = true;
      std::size_t comma = value.find(',');
      std::string_view duration_text = value.substr(0, comma);
      // `.5` is a duration players accept; read it as `0.5`.
      std::string padded = duration_text.substr(0, 1) == "." ? "0" + std::string(duration_text) : "";
      auto duration = parse_duration(padded.empty() ? duration_text : std::string_view(padded));
      if (!duration) return line_error(line, "bad EXTINF duration");
      HlsSegment segment;
      segment.duration = *duration;
      if (comma != std::string_view::npos) segment.title = std::string(value.substr(comma + 1));
      segment.ad = starts_with(segment.title, "Amazon");
      pending_segment = std::move(segment);
      pending_line = &line;
    } else if (tag == "EXT-X-TARGETDURATION") {
      saw_media = true;
      auto seconds = parse_integer(value);
      if (!seconds || *seconds < 0) return line_error(line, "bad EXT-X-TARGETDURATION");
      media.target_duration_s = *seconds;
    } else if (tag == "EXT-X-MEDIA-SEQUENCE") {
      saw_media = true;
      auto sequence = parse_unsigned(value);
      if (!sequence) return line_error(line, "bad EXT-X-MEDIA-SEQUENCE");
      media.media_sequence = *sequence;
    } else if (tag == "EXT-X-PROGRAM-DATE-TIME") {
      auto time = parse_time(value);
      if (!time) return line_error(line, "bad EXT-X-PROGRAM-DATE-TIME");
      next_program_date_time = *time;
    } else if (tag == "EXT-X-DISCONTINUITY") {
      next_discontinuity = true;
    } else if (tag == "EXT-X-ENDLIST") {
      media.endlist = true;
    } else if (tag == "EXT-X-BYTERANGE") {
      auto range = parse_byterange(value);
      if (!range) return line_error(line, "bad EXT-X-BYTERANGE");
      next_byterange = range;
    } else if (tag == "EXT-X-MAP") {
      auto attributes = parse_attributes(value);
      if (!attributes) return line_error(line, "bad EXT-X-MAP: " + attributes.error().message);
      const std::string* uri = find_attribute(*attributes, "URI");
      if (!uri) return line_error(line, "EXT-X-MAP without URI");
      map_uri = *uri;
    } else if (tag == "EXT-X-TWITCH-PREFETCH") {
      media.prefetch_uris.emplace_back(value);
    } else if (tag == "EXT-X-CUE-OUT" || tag == "EXT-X-CUE-OUT-CONT") {
      in_cue_out = true;
    } else if (tag == "EXT-X-CUE-IN") {
      in_cue_out = false;
    } else if (tag == "EXT-X-SESSION-DATA") {
      saw_master = true;
      auto attributes = parse_attributes(value);
      const std::string* id = attributes ? find_attribute(*attributes, "DATA-ID") : nullptr;
      if (!id) {
        master.warnings.push_back(line_error(line, "skipped a bad EXT-X-SESSION-DATA").message);
      } else {
        const std::string* data = find_attribute(*attributes, "VALUE");
        master.session_data.emplace_back(*id, data ? *data : "");
      }
    } else if (tag == "EXT-X-DATERANGE") {
      // A vendor's annotation: one that does not parse is skipped, not fatal.
      auto attributes = parse_attributes(value);
      if (!attributes) {
        media.warnings.push_back(
            line_error(line, "skipped a bad EXT-X-DATERANGE: " + attributes.error().message).message);
      } else if (auto range = ad_range(*attributes)) {
        media.ad_ranges.push_back(*range);
      }
    }
    // Anything else (EXT-X-VERSION, EXT-X-INDEPENDENT-SEGMENTS, vendor tags, …) is
    // tolerated and ignored.
    if (saw_master && saw_media) return line_error(line, "playlist mixes master and media tags");
  }
  if (pending_line) return line_error(*pending_line, "truncated: entry has no URI");
  playlist.kind = saw_master ? PlaylistKind::Master : PlaylistKind::Media;
  if (!media.ad_ranges.empty()) {
    // A segment is an ad if it starts inside an ad range; one starting exactly at
    // its end is the stream again.
    std::vector<std::optional<Micros>> starts = segment_start_times(media);
    for (std::size_t i = 0; i < media.segments.size(); ++i) {
      if (!starts[i]) continue;
      for (const HlsAdRange& range : media.ad_ranges) {
        bool inside = range.start <= *starts[i] && *starts[i] < range.end;
        if (inside && media.segments[i].title != "live") media.segments[i].ad = true;
      }
    }
  }
  if (saw_master) name_variants(master);
  return playlist;
}

namespace {

std::string path_safe(std::string name);

std::string base_variant_name(const MasterPlaylist& master, const HlsVariant& variant) {
  const std::string* ivs_source = find_attribute(variant.attributes, "IVS-VARIANT-SOURCE");
  if (ivs_source && *ivs_source == "source") return "source";
  if (const std::string* ivs_name = find_attribute(variant.attributes, "IVS-NAME")) {
    if (!ivs_name->empty()) return ivs_name->ends_with(" (source)") ? "source" : *ivs_name;
  }
  if (!variant.video_group.empty()) {
    if (variant.video_group == "chunked") return "source";  // Twitch's group for the source
    for (const HlsRendition& rendition : master.renditions) {
      if (rendition.type == "VIDEO" && rendition.group_id == variant.video_group && !rendition.name.empty()) {
        return rendition.name.ends_with(" (source)") ? "source" : rendition.name;
      }
    }
  }
  if (std::size_t x = variant.resolution.find('x'); x != std::string::npos && x + 1 < variant.resolution.size()) {
    return variant.resolution.substr(x + 1) + "p";
  }
  if (master.variants.size() == 1) return "source";
  return std::to_string(variant.bandwidth_bps.value_or(0)) + "bps";
}

// The variant's own name when it claims to be the source but so does another: its
// IVS-NAME or rendition name without " (source)".
std::string own_name(const MasterPlaylist& master, const HlsVariant& variant) {
  auto strip = [](std::string name) {
    if (name.ends_with(" (source)")) name.resize(name.size() - 9);
    return name;
  };
  if (const std::string* ivs_name = find_attribute(variant.attributes, "IVS-NAME"); ivs_name && !ivs_name->empty()) {
    return strip(*ivs_name);
  }
  for (const HlsRendition& rendition : master.renditions) {
    if (rendition.type == "VIDEO" && rendition.group_id == variant.video_group && !rendition.name.empty()) {
      return strip(rendition.name);
    }
  }
  if (std::size_t x = variant.resolution.find('x'); x != std::string::npos && x + 1 < variant.resolution.size()) {
    return variant.resolution.substr(x + 1) + "p";
  }
  return std::to_string(variant.bandwidth_bps.value_or(0)) + "bps";
}

// Names become directory names: keep them one harmless path part.
std::string path_safe(std::string name) {
  for (char& c : name) {
    if (c == '/' || c == '\\' || c == ' ' || c == '\t' || c == '\0') c = '_';
  }
  if (name.empty() || name[0] == '.') name.insert(name.begin(), '_');
  return name;
}

}  // namespace

std::vector<std::optional<Micros>> segment_start_times(const MediaPlaylist& playlist) {
  std::vector<std::optional<Micros>> starts;
  starts.reserve(playlist.segments.size());
  std::optional<Micros> next;
  for (const HlsSegment& segment : playlist.segments) {
    if (segment.program_date_time) next = segment.program_date_time;
    starts.push_back(next);
    if (next) *next += segment.duration;
  }
  return starts;
}

std::string video_codec_family(std::string_view codecs) {
  while (!codecs.empty()) {
    std::size_t comma = codecs.find(',');
    std::string_view codec = codecs.substr(0, comma);
    while (!codec.empty() && codec.front() == ' ') codec.remove_prefix(1);
    if (starts_with(codec, "avc1") || starts_with(codec, "avc3")) return "h264";
    if (starts_with(codec, "hvc1") || starts_with(codec, "hev1")) return "h265";
    if (starts_with(codec, "av01")) return "av1";
    if (starts_with(codec, "vp09")) return "vp9";
    codecs = comma == std::string_view::npos ? std::string_view{} : codecs.substr(comma + 1);
  }
  return "";
}

bool audio_only(const MasterPlaylist& master) {
  if (master.variants.empty()) return false;
  for (const HlsVariant& variant : master.variants) {
    bool named_audio = variant.name == "audio_only";
    bool no_video = !variant.codecs.empty() && video_codec_family(variant.codecs).empty();
    if (!named_audio && !no_video) return false;
  }
  return true;
}

void name_variants(MasterPlaylist& master) {
  std::vector<std::string> bases;
  int sources = 0;
  for (const HlsVariant& variant : master.variants) {
    bases.push_back(base_variant_name(master, variant));
    sources += bases.back() == "source";
  }
  // Two sources is none: picking one would depend on the playlist's order.
  master.source_ambiguous = sources > 1;
  for (std::size_t i = 0; i < master.variants.size(); ++i) {
    if (master.source_ambiguous && bases[i] == "source") bases[i] = own_name(master, master.variants[i]);
  }
  // A name several variants share: the H.264 one keeps it, the others are told apart
  // by codec, else by STABLE-VARIANT-ID; order decides only when nothing else does.
  std::map<std::string, std::vector<std::size_t>> sharing;
  for (std::size_t i = 0; i < bases.size(); ++i) sharing[bases[i]].push_back(i);
  for (auto& [name, indexes] : sharing) {
    if (indexes.size() < 2) continue;
    std::map<std::string, int> families;
    for (std::size_t i : indexes) ++families[video_codec_family(master.variants[i].codecs)];
    bool h264_kept = false;
    for (std::size_t i : indexes) {
      const HlsVariant& variant = master.variants[i];
      std::string family = video_codec_family(variant.codecs);
      if (family == "h264" && families[family] == 1 && !h264_kept) {
        h264_kept = true;
        continue;
      }
      const std::string* stable = find_attribute(variant.attributes, "STABLE-VARIANT-ID");
      if (!family.empty() && families[family] == 1) {
        bases[i] = name;
        bases[i] += '_';
        bases[i] += family;
      } else if (stable && !stable->empty()) {
        bases[i] = name;
        bases[i] += '_';
        bases[i] += *stable;
      }
    }
  }
  std::set<std::string> taken;
  for (std::size_t i = 0; i < master.variants.size(); ++i) {
    HlsVariant& variant = master.variants[i];
    std::string base = path_safe(bases[i]);
    std::string name = base;
    for (int n = 2; taken.count(name); ++n) name = base + "_" + std::to_string(n);
    taken.insert(name);
    variant.name = std::move(name);
  }
}

}  // namespace wubd::core
