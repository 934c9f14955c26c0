#pragma once

#include <string>

#include "wubd/core/result.h"
#include "wubd/io/beneath.h"

struct AVFormatContext;
struct AVInputFormat;

// Opening an archive file with libavformat, the one way every media reader does it.
namespace wubd::io {

// Opens `file` under beneath.h's rule (no symlink below the base) and hands it to
// libavformat by its descriptor's name, so libavformat never resolves the archive
// path itself. `*context` may be null or allocated beforehand (to set flags);
// `format` null probes it. On failure *context is freed (null) and the error names
// the file. Blocks on the disk: call it from libuv's threadpool.
core::Result<bool> open_media_input(AVFormatContext** context, const BeneathPath& file,
                                    const AVInputFormat* format = nullptr);

// libavformat's text for an AVERROR code.
std::string av_error(int code);

// Whether an archive file is fragmented MP4 (an fMP4 rendition's init section and
// fragment, as the downloader stores them) rather than MPEG-TS: its first box is
// `ftyp`. Reads 8 bytes; false if it cannot.
bool is_fragmented_mp4(const BeneathPath& file);

// The file's audio and video as MPEG-TS, packets copied (H.264 to Annex B as MPEG-TS
// wants it), their timestamps as they are: how the cuts read fMP4 segments. Blocks on
// the disk and the demuxer: call it from libuv's threadpool.
core::Result<std::string> remux_to_mpegts(const BeneathPath& file);

}  // namespace wubd::io
