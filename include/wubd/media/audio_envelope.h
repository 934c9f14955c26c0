#pragma once

#include <vector>

#include "wubd/core/result.h"
#include "wubd/core/time.h"
#include "wubd/core/waveform.h"
#include "wubd/io/beneath.h"

// The audio of segment files, decoded with libavcodec, as an envelope over time for
// /waveform. Blocks on the disk and the decoder: the loop runs it in the threadpool,
// a few segments per call.
namespace wubd::media {

struct AudioSegment {
  io::BeneathPath path;
  core::Micros start = 0;  // the segment's named start: its first audio sample's time
};

// Widens `envelope`'s columns (slices of [start, end)) with the samples of the
// first audio stream of each segment. Only the audio is read out of each file (video
// packets are dropped unparsed). `stride`: decode one audio frame in so many (1:
// every one), for long ranges where a column spans seconds: each frame decoded still
// shows its samples' true peak, and a column is seldom missed. A segment without
// audio adds nothing; one that does not open is an error naming it.
core::Result<bool> add_audio_envelope(const std::vector<AudioSegment>& segments, core::Micros start, core::Micros end,
                                      int stride, core::Envelope& envelope);

}  // namespace wubd::media
