#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wubd/core/time.h"

// The fake origin's media playlists, as Twitch writes them in 2026: segments with a
// PROGRAM-DATE-TIME each, stitched ads (pre-rolls on every new playlist URL, mid-roll
// breaks, and stretches marked as ads whose segments stay live), a PROGRAM-DATE-TIME
// jump in some sessions, and fMP4 variants whose init section changes.
namespace wubd::fake_origin {

struct AdOptions {
  double preroll_s = 0;            // stream seconds of ads opening every new session
  double midroll_every_s = 0;      // a mid-roll break every this many stream seconds (0: none)
  double midroll_s = 0;            // its length
  double marked_live_every_s = 0;  // an ad DATERANGE over segments that stay `live`
  double marked_live_s = 0;
};

struct SkewOptions {
  std::int64_t from_index = -1;  // from this segment on (-1: never) …
  int ms = 0;                    // … PROGRAM-DATE-TIMEs are this far off, in sessions older than it
};

// One playlist URL as Twitch hands them out, with what it shows.
struct Session {
  std::int64_t id = 0;
  std::int64_t created_index = 0;  // the newest segment when its master was fetched
  double age_stream_s = 0;         // stream seconds since its first media playlist
};

// fMP4: segment i uses init section map_of(i); the first and second halves of the
// loop were encoded separately.
struct Fmp4Layout {
  bool enabled = false;
  int distinct = 0;  // segments per loop
  std::int64_t map_of(std::int64_t index) const { return (index % distinct) < distinct / 2 ? 0 : 1; }
};

struct Timeline {
  core::Micros base = 0;  // PROGRAM-DATE-TIME of segment 0
  int segment_seconds = 2;
};

// What a URI in the playlist stands for.
bool is_ad_uri(const std::string& file);

// The media playlist of `window` (segment indexes, oldest first) for `session`;
// `ended` adds ENDLIST. Segment URIs: `<i>.ts` (or `<i>.m4s`), ads `ad-<session>-<i>.ts`
// (pre-roll) and `ad-m-<i>.ts` (mid-roll).
std::string media_playlist_text(const std::vector<std::int64_t>& window, const Timeline& timeline, const AdOptions& ads,
                                const SkewOptions& skew, const Session& session, const Fmp4Layout& fmp4, bool ended);

}  // namespace wubd::fake_origin
