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
};

// Parses NAME:WxH:BITRATE.
bool parse_profile(const std::string& text, Profile& profile);

// `count` consecutive segments of `seconds` each (keyframe at every start), from the
// cache or freshly encoded. Returns an empty vector and prints why on failure.
std::vector<std::shared_ptr<const std::string>> load_segments(const std::string& cache_dir, const Profile& profile,
                                                              int count, int seconds);

}  // namespace wubd::fake_origin
