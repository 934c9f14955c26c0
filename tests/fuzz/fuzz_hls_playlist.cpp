// The HLS parser on any bytes: never crashes, and line endings do not matter (the
// same text with CRLF parses to the same playlist as with LF).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "wubd/core/hls_playlist.h"

using namespace wubd::core;

namespace {

bool same(const Playlist& a, const Playlist& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == PlaylistKind::Master) {
    if (a.master.variants.size() != b.master.variants.size()) return false;
    for (std::size_t i = 0; i < a.master.variants.size(); ++i) {
      if (a.master.variants[i].uri != b.master.variants[i].uri) return false;
    }
    return true;
  }
  const MediaPlaylist& x = a.media;
  const MediaPlaylist& y = b.media;
  if (x.segments.size() != y.segments.size() || x.endlist != y.endlist || x.media_sequence != y.media_sequence) {
    return false;
  }
  for (std::size_t i = 0; i < x.segments.size(); ++i) {
    const HlsSegment& s = x.segments[i];
    const HlsSegment& t = y.segments[i];
    if (s.uri != t.uri || s.duration != t.duration || s.program_date_time != t.program_date_time || s.ad != t.ad) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_playlist(text);
  if (parsed) {
    for (const HlsSegment& s : parsed->media.segments) FUZZ_CHECK(!s.uri.empty(), "a segment without a URI");
    for (auto starts = segment_start_times(parsed->media); const auto& start : starts) (void)start;
  }
  if (text.find('\r') != std::string_view::npos) return 0;
  std::string crlf;
  for (char c : text) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  auto with_crlf = parse_playlist(crlf);
  FUZZ_CHECK(bool(parsed) == bool(with_crlf), "CRLF changed whether the playlist parses");
  if (parsed) FUZZ_CHECK(same(*parsed, *with_crlf), "CRLF changed the playlist parsed");
  return 0;
}
