#include "live_playlist.h"

#include <cmath>

namespace wubd::fake_origin {
namespace {

bool in_break(double at_s, double every_s, double length_s) {
  return every_s > 0 && length_s > 0 && std::fmod(at_s, every_s) < length_s && at_s >= every_s;
}

std::string daterange(const std::string& id, core::Micros start, double duration_s) {
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.3f", duration_s);
  return "#EXT-X-DATERANGE:ID=\"" + id + "\",CLASS=\"twitch-stitched-ad\",START-DATE=\"" + core::format_time(start) +
         "\",DURATION=" + duration + ",X-TV-TWITCH-AD-ROLL-TYPE=\"MIDROLL\"\n";
}

}  // namespace

bool is_ad_uri(const std::string& file) { return file.rfind("ad-", 0) == 0; }

std::string media_playlist_text(const std::vector<std::int64_t>& window, const Timeline& timeline, const AdOptions& ads,
                                const SkewOptions& skew, const Session& session, const Fmp4Layout& fmp4, bool ended) {
  const core::Micros duration = timeline.segment_seconds * core::kMicrosPerSecond;
  std::string text = "#EXTM3U\n#EXT-X-VERSION:" + std::string(fmp4.enabled ? "6" : "3") +
                     "\n#EXT-X-TARGETDURATION:" + std::to_string(timeline.segment_seconds) +
                     "\n#EXT-X-MEDIA-SEQUENCE:" + std::to_string(window.empty() ? 0 : window.front()) + "\n";
  // A new session opens with a pre-roll in place of the stream, at the stream's own
  // times: stored, those bytes would pass for the stream.
  bool preroll = ads.preroll_s > 0 && session.age_stream_s < ads.preroll_s;
  if (preroll && !window.empty()) {
    text += daterange("stitched-ad-" + std::to_string(session.id), timeline.base + window.front() * duration,
                      ads.preroll_s);
  }
  std::int64_t previous = -1;
  bool previous_ad = false;
  std::int64_t previous_map = -1;
  for (std::int64_t i : window) {
    double at_s = double(i) * timeline.segment_seconds;
    bool midroll = in_break(at_s, ads.midroll_every_s, ads.midroll_s);
    bool ad = preroll || midroll;
    core::Micros pdt = timeline.base + i * duration;
    if (skew.from_index >= 0 && i >= skew.from_index && session.created_index < skew.from_index) {
      pdt += skew.ms * core::kMicrosPerMilli;
    }
    if (midroll && !in_break(at_s - timeline.segment_seconds, ads.midroll_every_s, ads.midroll_s)) {
      text += daterange("stitched-ad-m-" + std::to_string(i), pdt, ads.midroll_s);
    }
    if (in_break(at_s, ads.marked_live_every_s, ads.marked_live_s) &&
        !in_break(at_s - timeline.segment_seconds, ads.marked_live_every_s, ads.marked_live_s)) {
      // Marked as an ad break, but the stream goes on: its segments say `live`.
      text += daterange("stitched-ad-marked-" + std::to_string(i), pdt, ads.marked_live_s);
    }
    std::int64_t map = fmp4.enabled && !ad ? fmp4.map_of(i) : -1;
    bool jump = previous >= 0 &&
                (i != previous + 1 || ad != previous_ad || (map >= 0 && map != previous_map && previous_map >= 0));
    if (jump) text += "#EXT-X-DISCONTINUITY\n";
    if (map >= 0 && map != previous_map) text += "#EXT-X-MAP:URI=\"init" + std::to_string(map) + ".mp4\"\n";
    text += "#EXT-X-PROGRAM-DATE-TIME:" + core::format_time(pdt) + "\n";
    if (ad) {
      text += "#EXTINF:" + std::to_string(timeline.segment_seconds) + ".000,Amazon|" +
              std::to_string(1000 + session.id) + "\n";
      text += preroll ? "ad-" + std::to_string(session.id) + "-" + std::to_string(i) + ".ts\n"
                      : "ad-m-" + std::to_string(i) + ".ts\n";
    } else {
      text += "#EXTINF:" + std::to_string(timeline.segment_seconds) + ".000,live\n";
      text += std::to_string(i) + (fmp4.enabled ? ".m4s\n" : ".ts\n");
    }
    previous = i;
    previous_ad = ad;
    if (map >= 0) previous_map = map;
  }
  if (ended) text += "#EXT-X-ENDLIST\n";
  return text;
}

}  // namespace wubd::fake_origin
