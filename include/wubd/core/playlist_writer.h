#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wubd/core/best_segments.h"

// Writes the HLS playlists the restreamer serves (RFC 8216).
namespace wubd::core {

struct MasterVariant {
  std::string name;                // the variant's directory name (`source`, `720p60`)
  std::string uri;                 // its media playlist URL, start/end already appended
  std::int64_t bandwidth_bps = 0;  // peak bits per second, as RFC 8216 requires
  // What a probe of a recent segment found; unknown parts are left out of the line.
  int width = 0, height = 0;  // RESOLUTION=WxH
  std::string codecs;         // CODECS="avc1.64001f,mp4a.40.2" (RFC 6381)
  double frame_rate = 0;      // FRAME-RATE=59.940
};

// One EXT-X-MEDIA VIDEO rendition named after each variant plus its
// EXT-X-STREAM-INF, in the order given. The STREAM-INF carries NAME as wubloader
// writes it (hls.js names a level by it: a quality menu of "undefined" without it),
// and RESOLUTION, CODECS and FRAME-RATE where known.
std::string write_master_playlist(const std::vector<MasterVariant>& variants);

// A media playlist of best segments: per segment `#EXT-X-PROGRAM-DATE-TIME` (ms, Z),
// `#EXTINF:<d.ddd>,` and its URL, `url_prefix` + escaped `hour/file`. A hole between
// two segments becomes `#EXT-X-DISCONTINUITY`; leading and trailing holes write
// nothing. `#EXT-X-ENDLIST` only when the last item is a complete segment: a trailing
// hole means the range is not complete yet, so players keep polling.
// `url_prefix` must already be escaped and end in '/' (`/segments/stream/variant/`).
std::string write_media_playlist(const std::vector<SegmentOrHole>& segments, std::string_view url_prefix);

// The numbering and ending of a live playlist that slides (core/live_window.h).
struct LivePlaylistTags {
  std::int64_t media_sequence = 0;          // EXT-X-MEDIA-SEQUENCE (written when not 0)
  std::int64_t discontinuity_sequence = 0;  // EXT-X-DISCONTINUITY-SEQUENCE (written when not 0)
  bool endlist = false;                     // EXT-X-ENDLIST after the last segment
  // EXT-X-TARGETDURATION, when at least every segment's rounded EXTINF (a live
  // playlist's must not change from reload to reload); 0: computed from the segments.
  std::int64_t target_duration = 0;
};

// As above, with `tags` deciding the numbering and ENDLIST instead of the last item.
std::string write_media_playlist(const std::vector<SegmentOrHole>& segments, std::string_view url_prefix,
                                 const LivePlaylistTags& tags);

// The smallest EXT-X-TARGETDURATION that RFC 8216 allows: every EXTINF, rounded to
// the nearest integer, must not exceed it. At least 1.
std::int64_t target_duration_seconds(const std::vector<SegmentOrHole>& segments);

}  // namespace wubd::core
