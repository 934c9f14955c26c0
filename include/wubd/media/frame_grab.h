#pragma once

#include "wubd/core/picture.h"
#include "wubd/core/result.h"
#include "wubd/core/time.h"
#include "wubd/io/beneath.h"
#include "wubd/media/images.h"

// One video frame of a segment file, decoded with libavcodec in-process (an ffmpeg
// child costs ~80 ms to start and probe before it decodes anything). Blocks on the
// disk and the decoder: the loop runs it in the threadpool.
namespace wubd::media {

// The frame shown `offset` after the segment's start: the last frame (in presentation
// order) whose time is at or before it, times counted from the segment's first frame
// (core::reference_pts: the segment's named start). Exact: the group is decoded from
// its keyframe up to that frame, frames no other frame refers to skipped on the way.
// An offset before the first frame or past what the file holds is an error with
// code 406.
core::Result<core::Picture> frame_at(const io::BeneathPath& segment, core::Micros offset);

// The same frame encoded as a PNG or JPEG straight from the decoder's pixels (one
// conversion fewer than frame_at and encode_image).
core::Result<std::string> frame_image_at(const io::BeneathPath& segment, core::Micros offset, ImageFormat format);

}  // namespace wubd::media
