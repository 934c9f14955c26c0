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

// A segment's video frames (the first video stream's, in presentation order, with
// 90 kHz timestamps and keyframe flags) and its start, as ffmpeg's -ss counts it.
// No video stream gives no frames. Reads the whole file.
core::Result<core::SegmentFrames> read_segment_frames(const io::BeneathPath& path);

}  // namespace wubd::media
