#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wubd/core/result.h"
#include "wubd/core/time.h"

// HLS playlists (RFC 8216) as origins really send them: master playlists with
// renditions and Twitch's naming, and live media playlists. URIs are kept as written;
// resolving them against the playlist's URL is the HTTP client's job (curl's URL API).
namespace wubd::core {

// An attribute list (`KEY=VALUE,KEY="quoted, value"`), quotes removed, in order.
using HlsAttributes = std::vector<std::pair<std::string, std::string>>;

// The value of `key` in `attributes`, or nullptr.
const std::string* find_attribute(const HlsAttributes& attributes, std::string_view key);

// Parses an attribute list. Errors name the offending position.
Result<HlsAttributes> parse_attributes(std::string_view text);

// `#EXT-X-MEDIA`: an alternative rendition (Twitch names its variants here).
struct HlsRendition {
  std::string type;  // VIDEO, AUDIO, SUBTITLES, CLOSED-CAPTIONS
  std::string group_id;
  std::string name;
  std::string uri;  // often empty: the rendition is in the variant's stream
  HlsAttributes attributes;
};

// `#EXT-X-STREAM-INF` and the URI after it.
struct HlsVariant {
  std::string uri;
  std::optional<std::int64_t> bandwidth_bps;  // BANDWIDTH (required by RFC 8216, not always sent)
  std::string resolution;                     // `1280x720`, or empty
  std::string codecs;
  std::string video_group;  // the VIDEO attribute: GROUP-ID of its video rendition
  HlsAttributes attributes;
  // What wubd calls this variant on disk; see name_variants().
  std::string name;
};

struct MasterPlaylist {
  std::vector<HlsVariant> variants;
  std::vector<HlsRendition> renditions;
  // Several variants claim to be the source (two renditions named "… (source)", say):
  // none is named `source`, each keeps its own name. Worth a log line.
  bool source_ambiguous = false;
  // EXT-X-SESSION-DATA entries (Twitch says here which variants it withholds).
  std::vector<std::pair<std::string, std::string>> session_data;  // DATA-ID, VALUE
  // Tags skipped because their attributes did not parse; one line each, for a log.
  std::vector<std::string> warnings;
};

// The video codec family of a CODECS attribute ("avc1.64002A,mp4a.40.2" -> "h264";
// hvc1/hev1 -> "h265", av01 -> "av1"), or "" without a video codec.
std::string video_codec_family(std::string_view codecs);

// Whether every variant is audio only (Twitch's answer to a viewer it will not give
// video to): a name `audio_only`, or CODECS without a video codec.
bool audio_only(const MasterPlaylist& master);

struct HlsByteRange {
  std::int64_t length = 0;
  std::optional<std::int64_t> offset;
};

struct HlsSegment {
  std::string uri;
  Micros duration = 0;                      // EXTINF, exact to the microsecond
  std::string title;                        // EXTINF's text after the comma (Twitch writes `live`)
  std::optional<Micros> program_date_time;  // as given on this segment, not carried
  bool discontinuity = false;
  std::optional<HlsByteRange> byterange;
  std::string map_uri;  // the EXT-X-MAP in effect, if any
  // An ad, on this segment's own evidence: titled as one of Twitch's ads ("Amazon…"),
  // or, unless titled `live` (Twitch has marked stretches whose segments stayed
  // live), between EXT-X-CUE-OUT and EXT-X-CUE-IN or starting inside a Twitch
  // stitched-ad EXT-X-DATERANGE ([START-DATE, START-DATE + DURATION), half-open, its
  // CLASS `twitch-stitched-ad` or its ID `stitched-ad-…`).
  bool ad = false;
};

// A Twitch stitched-ad EXT-X-DATERANGE: the ad covers [start, end).
struct HlsAdRange {
  Micros start = 0;
  Micros end = 0;
};

struct MediaPlaylist {
  std::optional<std::int64_t> target_duration_s;  // absent in some live playlists
  std::uint64_t media_sequence = 0;               // a decimal-integer: up to 2^64-1 (RFC 8216 §4.2)
  std::vector<HlsAdRange> ad_ranges;
  // Tags skipped because their attributes did not parse (a vendor's DATERANGE, say):
  // one line each, for a log; the rest of the playlist is still good.
  std::vector<std::string> warnings;
  bool endlist = false;
  std::vector<HlsSegment> segments;
  // Twitch's low-latency `#EXT-X-TWITCH-PREFETCH` URIs: segments not yet complete.
  // Kept as data; the downloader does not fetch them.
  std::vector<std::string> prefetch_uris;
};

enum class PlaylistKind { Master, Media };

struct Playlist {
  PlaylistKind kind = PlaylistKind::Media;
  MasterPlaylist master;  // when kind == Master
  MediaPlaylist media;    // when kind == Media
};

// Parses a playlist body. Tolerates a UTF-8 BOM, CRLF, blank lines and unknown tags.
// A body that does not start with `#EXTM3U` (HTML, garbage), or that ends in the
// middle of an entry (a tag that needs a URI and has none), is an error whose message
// says what was wrong and where; so are malformed EXTINF, PROGRAM-DATE-TIME, STREAM-INF
// attributes and a playlist that mixes master and media tags. Never crashes.
// Variant names are filled in by name_variants().
Result<Playlist> parse_playlist(std::string_view text);

// Start times of a playlist's segments: each segment's PROGRAM-DATE-TIME, else the
// previous segment's start plus its duration (carried forward); nullopt while no
// PROGRAM-DATE-TIME has been seen yet.
std::vector<std::optional<Micros>> segment_start_times(const MediaPlaylist& playlist);

// Gives each variant of a master playlist the name wubd stores it under:
// - `IVS-NAME` (Twitch's newer attribute), or the NAME of the variant's VIDEO
//   rendition, or `<height>p` from RESOLUTION, or `<bandwidth>bps`;
// - `source` for Twitch's source variant: IVS-VARIANT-SOURCE="source", a name ending
//   in " (source)", or the VIDEO group `chunked`; when several variants claim it,
//   none gets `source` (source_ambiguous is set) and each keeps its own name;
// - a name several variants share (Twitch's enhanced broadcasting: 1080p60 in H.264
//   and in HEVC) stays with the H.264 one; the others get `_<codec>` (`1080p60_h265`),
//   or `_<STABLE-VARIANT-ID>` when codecs do not tell them apart: never by their
//   order, which may change from one fetch to the next;
// - characters that cannot be in a path part (`/`, whitespace, a leading `.`) become
//   `_`; a name used twice gets `_2`, `_3`, … in playlist order.
void name_variants(MasterPlaylist& master);

}  // namespace wubd::core
