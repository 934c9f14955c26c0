#pragma once

#include <functional>
#include <string>
#include <vector>

#include <uv.h>

#include "wubd/core/result.h"
#include "wubd/core/smart_cut_plan.h"
#include "wubd/io/beneath.h"

// What a media file holds, read with libavformat (not by running ffprobe). Opening
// and reading a file's headers blocks, so it runs in libuv's threadpool
// (uv_queue_work: short and bounded) and the result is delivered on the loop.
namespace wubd::io {

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

// Probes `path`; `done` runs on the loop, once. The caller keeps `loop` running.
void probe_stream_codecs(uv_loop_t* loop, BeneathPath path, std::function<void(core::Result<StreamCodecs>)> done);

// The same, synchronously, for tools and tests off the loop.
core::Result<StreamCodecs> probe_stream_codecs_now(const BeneathPath& path);

// A segment's video frames (the first video stream's, in presentation order, with
// 90 kHz timestamps and keyframe flags) and its start, as ffmpeg's -ss counts it.
// No video stream gives no frames. Reads the whole file: run it in the threadpool.
core::Result<core::SegmentFrames> read_segment_frames_now(const BeneathPath& path);
void read_segment_frames(uv_loop_t* loop, BeneathPath path,
                         std::function<void(core::Result<core::SegmentFrames>)> done);

}  // namespace wubd::io
