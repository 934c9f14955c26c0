#pragma once

#include <string>
#include <vector>

#include "wubd/core/result.h"
#include "wubd/core/smart_cut_plan.h"
#include "wubd/io/beneath.h"

// What a media file holds, read with libavformat (not by running ffprobe). Both calls
// read the file: the loop runs them through an io::TaskGroup.
namespace wubd::media {

struct StreamCodecs {
  // Per stream, in index order: the codec name of video streams ("h264"), "" for the
  // others (audio, data: a trim copies those as they are).
  std::vector<std::string> codecs;
  bool has_video = false;
  bool has_audio = false;
  // The file's first timestamp, as ffmpeg counts -ss from it (its start_time), in
  // microseconds of the file's own timeline.
  core::Micros start_time = 0;
};

core::Result<StreamCodecs> probe_stream_codecs(const io::BeneathPath& path);

// What a master playlist says of a variant (RFC 8216 4.3.4.2), read from one of its
// segments: the first video stream's size and frame rate, and the RFC 6381 codec
// string of its video and audio (`avc1.64001f,mp4a.40.2`), empty when a codec has
// no string wubd knows how to write (better none than a wrong one).
struct VariantMedia {
  int width = 0;
  int height = 0;
  double frame_rate = 0;
  std::string codecs;
};
core::Result<VariantMedia> probe_variant_media(const io::BeneathPath& path);

// A segment's video frames (the first video stream's, in presentation order, with
// 90 kHz timestamps and keyframe flags) and its start, as ffmpeg's -ss counts it.
// No video stream gives no frames. Reads the whole file.
core::Result<core::SegmentFrames> read_segment_frames(const io::BeneathPath& path);

}  // namespace wubd::media
