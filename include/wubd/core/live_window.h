#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "wubd/core/best_segments.h"
#include "wubd/core/time.h"

// The open-ended live playlist of a variant (`/playlist/S/V.m3u8` without start and
// end): the newest `span` of the archive, in a window that slides a segment at a time,
// numbered so that a player can follow it for days (RFC 8216 6.2.1, 6.2.2).
//
// Players match one reload of a live playlist to the last by media sequence numbers
// (hls.js, ffmpeg, Safari): every segment must keep its number from reload to reload,
// EXT-X-MEDIA-SEQUENCE rises by exactly the number of segments that left the head,
// and EXT-X-DISCONTINUITY-SEQUENCE by the number of DISCONTINUITY tags that left with
// them. So the window remembers what it has shown, in order, and only ever appends
// segments newer than the newest it has shown and drops segments from its head: its
// past never changes, even when the disk does (a hole filled later by a backfill stays
// a hole here, a segment tombstoned after it was shown stays listed and answers 404).
//
// Why a segment at a time rather than an hour at a time: the playlist keeps the same
// length, as a live origin's does, so a player sees an ordinary sliding live playlist
// (dropping an hour at once halves it, and a viewer an hour behind the edge loses the
// segment under the playhead at once instead of being carried along).
//
// Numbers start at 0 with each process (as MediaMTX and nginx-rtmp number theirs).
namespace wubd::core {

class LiveWindow {
 public:
  explicit LiveWindow(Micros span) : span_(span) {}

  // Where the next selection should begin, given the archive's end (`archive_end`,
  // the end of its newest hour): at the newest segment shown, so that the selection
  // holds it and what came after it; never more than `span` and an hour before
  // `archive_end` (a variant that stopped for longer than the window starts afresh);
  // that far back the first time (the newest hour is rarely full).
  Micros select_from(Micros archive_end) const;

  // Takes a selection from select_from() to the archive's end (best segments with
  // holes, the live rules applied: core::playlist_segments): appends each segment
  // that starts after the newest one shown, noting a discontinuity before it where
  // a hole lies between them, then drops from the head every segment that ends
  // `span` or more before the newest one's end. Segments at or before the newest one
  // shown are never taken (the past is fixed).
  void advance(const std::vector<SegmentOrHole>& selection);

  struct View {
    std::int64_t media_sequence = 0;          // the first segment's number
    std::int64_t discontinuity_sequence = 0;  // DISCONTINUITY tags before the first segment
    // The window's segments, a null (a hole: a DISCONTINUITY tag) between two where
    // the source jumps; no leading or trailing null.
    std::vector<SegmentOrHole> items;
    // The largest rounded EXTINF ever shown: EXT-X-TARGETDURATION, which must not
    // change from reload to reload.
    std::int64_t target_duration = 1;
  };
  View view() const;

  // Changes whenever view() would: segments appended or dropped.
  std::uint64_t version() const { return version_; }
  bool empty() const { return shown_.empty(); }
  // The first shown segment's start (what retention must keep while players follow).
  std::optional<Micros> head_start() const;

 private:
  struct Shown {
    SegmentRef segment;
    std::int64_t sequence = 0;
    // DISCONTINUITY tags before this segment since numbering began, the one right
    // before it included.
    std::int64_t discontinuities = 0;
  };

  Micros span_;
  std::deque<Shown> shown_;
  std::int64_t next_sequence_ = 0;
  std::int64_t discontinuities_ = 0;  // of the newest segment shown (kept when the window empties)
  std::optional<Micros> newest_end_;  // of the newest segment ever shown
  std::int64_t target_duration_ = 1;
  std::uint64_t version_ = 0;
};

}  // namespace wubd::core
