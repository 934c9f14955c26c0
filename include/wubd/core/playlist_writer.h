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
};

// One EXT-X-MEDIA VIDEO rendition named after each variant (players show the name)
// plus its EXT-X-STREAM-INF, in the order given.
std::string write_master_playlist(const std::vector<MasterVariant>& variants);

// A media playlist of best segments: per segment `#EXT-X-PROGRAM-DATE-TIME` (ms, Z),
// `#EXTINF:<d.ddd>,` and its URL, `url_prefix` + escaped `hour/file`. A hole between
// two segments becomes `#EXT-X-DISCONTINUITY`; leading and trailing holes write
// nothing. `#EXT-X-ENDLIST` only when the last item is a complete segment: a trailing
// hole means the range is not complete yet, so players keep polling.
// `url_prefix` must already be escaped and end in '/' (`/segments/stream/variant/`).
std::string write_media_playlist(const std::vector<SegmentOrHole>& segments, std::string_view url_prefix);

// The smallest EXT-X-TARGETDURATION that RFC 8216 allows: every EXTINF, rounded to
// the nearest integer, must not exceed it. At least 1.
std::int64_t target_duration_seconds(const std::vector<SegmentOrHole>& segments);

}  // namespace wubd::core
