#pragma once

#include <memory>
#include <string>

#include "wubd/core/result.h"
#include "wubd/io/beneath.h"

struct AVFormatContext;
struct AVInputFormat;
struct AVIOContext;

// Opening an archive file with libavformat: the one way every media reader does it
// (probes, the smart cut's encoder and splicer, fMP4 remuxing). Every call here blocks
// on the disk and the demuxer: the loop runs them through an io::TaskGroup.
namespace wubd::media {

// libavformat's text for an AVERROR code.
std::string av_error(int code);

// An archive file open for demuxing; closed with the object.
class MediaInput {
 public:
  struct Options {
    const AVInputFormat* format = nullptr;  // null: probe it
    // Also read a little of the file to learn every stream's codec parameters
    // (avformat_find_stream_info).
    bool find_streams = false;
    // The demuxer's packets as they are, without running the codecs' parsers to split
    // them into frames (MPEG-TS audio PES hold several): much less work when the file
    // is copied whole and no frame boundary matters.
    bool whole_packets = false;
  };

  // Opens `file` under beneath.h's rule (no symlink below the base) and hands it to
  // libavformat by its descriptor's name, so libavformat never resolves the archive
  // path itself. Errors name the file.
  static core::Result<MediaInput> open(const io::BeneathPath& file, Options options);
  static core::Result<MediaInput> open(const io::BeneathPath& file) { return open(file, Options{}); }
  // The same for MPEG-TS segments: naming the format skips probing each file for it.
  static core::Result<MediaInput> open_ts(const io::BeneathPath& file, bool whole_packets = false);
  // MPEG-TS held in memory (a transition clip ffmpeg made), read in place; `display`
  // names it in errors.
  static core::Result<MediaInput> open_ts_memory(std::shared_ptr<const std::string> bytes, std::string display,
                                                 bool whole_packets = false);

  MediaInput(MediaInput&& other) noexcept;
  MediaInput& operator=(MediaInput&& other) noexcept;
  MediaInput(const MediaInput&) = delete;
  MediaInput& operator=(const MediaInput&) = delete;
  ~MediaInput();

  AVFormatContext* get() const { return context_; }
  AVFormatContext* operator->() const { return context_; }
  const std::string& display() const { return display_; }
  // The index of the first video or audio stream, or -1.
  int first_video_stream() const;
  int first_audio_stream() const;

 private:
  MediaInput() = default;
  struct Memory;  // open_ts_memory's bytes and read position, which libavformat reads through
  AVFormatContext* context_ = nullptr;
  std::string display_;
  std::unique_ptr<Memory> memory_;
};

// Whether an archive file is fragmented MP4 (an fMP4 rendition's init section and
// fragment, as the downloader stores them) rather than MPEG-TS: its first box is
// `ftyp`. Reads 8 bytes; false if it cannot.
bool is_fragmented_mp4(const io::BeneathPath& file);

// The file's audio and video as MPEG-TS, packets copied (H.264 to Annex B as MPEG-TS
// wants it), their timestamps as they are: how the cuts read fMP4 segments.
core::Result<std::string> remux_to_mpegts(const io::BeneathPath& file);

}  // namespace wubd::media
