#pragma once

#include <memory>
#include <string>
#include <vector>

// Real MPEG-TS segments for the fake origin, made by ffmpeg once per profile and
// cached on disk (a second run starts at once).
namespace wubd::fake_origin {

struct Profile {
  std::string name;     // the variant name
  std::string size;     // 1280x720
  std::string bitrate;  // video bitrate for ffmpeg, "1M"
  bool fmp4 = false;    // fragmented MP4 (EXT-X-MAP) instead of MPEG-TS
};

// Parses NAME:WxH:BITRATE[:fmp4].
bool parse_profile(const std::string& text, Profile& profile);

// `count` consecutive segments of `seconds` each (keyframe at every start), from the
// cache or freshly encoded. Returns an empty vector and prints why on failure.
std::vector<std::shared_ptr<const std::string>> load_segments(const std::string& cache_dir, const Profile& profile,
                                                              int count, int seconds);

// Fragmented MP4 segments as ffmpeg's HLS muxer makes them: the first half of the loop
// and the second half encoded separately (the H.264 level differs, so their init
// sections do), as an encoder restart does.
struct Fmp4Media {
  std::vector<std::shared_ptr<const std::string>> inits;     // [2]
  std::vector<std::shared_ptr<const std::string>> segments;  // moof + mdat each
};
Fmp4Media load_fmp4_segments(const std::string& cache_dir, const Profile& profile, int count, int seconds);

}  // namespace wubd::fake_origin
