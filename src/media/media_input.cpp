#include "wubd/media/media_input.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/error.h>
}

namespace wubd::media {

std::string av_error(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

core::Result<MediaInput> MediaInput::open(const io::BeneathPath& file, Options options) {
  MediaInput input;
  input.display_ = file.display;
  input.context_ = avformat_alloc_context();
  if (!input.context_) return core::make_error("out of memory opening " + file.display);
  if (options.whole_packets) input.context_->flags |= AVFMT_FLAG_NOPARSE;
  int fd = io::open_beneath(file, O_RDONLY);
  if (fd < 0) {
    std::string why = fd == -ELOOP ? "a symbolic link is on its path" : std::strerror(-fd);
    return core::make_error("cannot open " + file.display + ": " + why);
  }
  // libavformat opens the name again: /proc/self/fd/N reaches the file just opened.
  int rc = avformat_open_input(&input.context_, io::descriptor_path(fd).c_str(), options.format, nullptr);
  ::close(fd);
  if (rc < 0) return core::make_error("cannot open " + file.display + ": " + av_error(rc));
  if (options.find_streams) {
    if (rc = avformat_find_stream_info(input.context_, nullptr); rc < 0) {
      return core::make_error("cannot read streams of " + file.display + ": " + av_error(rc));
    }
  }
  return input;
}

core::Result<MediaInput> MediaInput::open_ts(const io::BeneathPath& file, bool whole_packets) {
  Options options;
  options.format = av_find_input_format("mpegts");
  options.whole_packets = whole_packets;
  return open(file, options);
}

struct MediaInput::Memory {
  std::shared_ptr<const std::string> bytes;
  std::int64_t position = 0;
  AVIOContext* io = nullptr;

  ~Memory() {
    if (!io) return;
    av_freep(&io->buffer);
    avio_context_free(&io);
  }
  static int read(void* opaque, std::uint8_t* buffer, int size) {
    auto* self = static_cast<Memory*>(opaque);
    std::int64_t left = std::int64_t(self->bytes->size()) - self->position;
    if (left <= 0) return AVERROR_EOF;
    int n = int(std::min<std::int64_t>(left, size));
    std::memcpy(buffer, self->bytes->data() + self->position, std::size_t(n));
    self->position += n;
    return n;
  }
  static std::int64_t seek(void* opaque, std::int64_t offset, int whence) {
    auto* self = static_cast<Memory*>(opaque);
    std::int64_t size = std::int64_t(self->bytes->size());
    if (whence == AVSEEK_SIZE) return size;
    std::int64_t base = whence == SEEK_CUR ? self->position : whence == SEEK_END ? size : 0;
    if (base + offset < 0 || base + offset > size) return AVERROR(EINVAL);
    self->position = base + offset;
    return self->position;
  }
};

core::Result<MediaInput> MediaInput::open_ts_memory(std::shared_ptr<const std::string> bytes, std::string display,
                                                    bool whole_packets) {
  MediaInput input;
  input.display_ = std::move(display);
  input.memory_ = std::make_unique<Memory>();
  input.memory_->bytes = std::move(bytes);
  constexpr int kBufferSize = 64 * 1024;
  auto* buffer = static_cast<unsigned char*>(av_malloc(kBufferSize));
  if (!buffer) return core::make_error("out of memory opening " + input.display_);
  input.memory_->io =
      avio_alloc_context(buffer, kBufferSize, 0, input.memory_.get(), &Memory::read, nullptr, &Memory::seek);
  if (!input.memory_->io) {
    av_free(buffer);
    return core::make_error("out of memory opening " + input.display_);
  }
  input.context_ = avformat_alloc_context();
  if (!input.context_) return core::make_error("out of memory opening " + input.display_);
  input.context_->pb = input.memory_->io;
  input.context_->flags |= AVFMT_FLAG_CUSTOM_IO;
  if (whole_packets) input.context_->flags |= AVFMT_FLAG_NOPARSE;
  int rc = avformat_open_input(&input.context_, nullptr, av_find_input_format("mpegts"), nullptr);
  if (rc < 0) return core::make_error("cannot open " + input.display_ + ": " + av_error(rc));
  return input;
}

MediaInput::MediaInput(MediaInput&& other) noexcept
    : context_(std::exchange(other.context_, nullptr)),
      display_(std::move(other.display_)),
      memory_(std::move(other.memory_)) {}

MediaInput& MediaInput::operator=(MediaInput&& other) noexcept {
  if (this != &other) {
    avformat_close_input(&context_);
    context_ = std::exchange(other.context_, nullptr);
    display_ = std::move(other.display_);
    memory_ = std::move(other.memory_);
  }
  return *this;
}

// Frees a context whether avformat_open_input got to open it or not: it frees the
// context itself when it fails, and avformat_close_input takes null. A context on
// memory leaves its AVIOContext to `memory_` (AVFMT_FLAG_CUSTOM_IO), freed after it.
MediaInput::~MediaInput() { avformat_close_input(&context_); }

namespace {

int first_stream_of(const AVFormatContext* context, AVMediaType type) {
  for (unsigned i = 0; i < context->nb_streams; ++i) {
    if (context->streams[i]->codecpar->codec_type == type) return int(i);
  }
  return -1;
}

}  // namespace

int MediaInput::first_video_stream() const { return first_stream_of(context_, AVMEDIA_TYPE_VIDEO); }
int MediaInput::first_audio_stream() const { return first_stream_of(context_, AVMEDIA_TYPE_AUDIO); }

bool is_fragmented_mp4(const io::BeneathPath& file) {
  int fd = io::open_beneath(file, O_RDONLY);
  if (fd < 0) return false;
  char head[8];
  ssize_t n = ::pread(fd, head, sizeof head, 0);
  ::close(fd);
  return n == 8 && std::memcmp(head + 4, "ftyp", 4) == 0;
}

core::Result<std::string> remux_to_mpegts(const io::BeneathPath& file) {
  auto input = MediaInput::open(file);
  if (!input) return input.error();
  AVFormatContext* in = input->get();
  AVFormatContext* out = nullptr;
  if (int rc = avformat_alloc_output_context2(&out, nullptr, "mpegts", nullptr); rc < 0) {
    return core::make_error("cannot make an MPEG-TS muxer: " + av_error(rc));
  }
  auto out_free = [](AVFormatContext* c) {
    if (c->pb) {
      std::uint8_t* buffer = nullptr;
      avio_close_dyn_buf(c->pb, &buffer);
      av_free(buffer);
    }
    avformat_free_context(c);
  };
  std::unique_ptr<AVFormatContext, decltype(out_free)> out_owner(out, out_free);
  std::vector<int> map(in->nb_streams, -1);
  for (unsigned i = 0; i < in->nb_streams; ++i) {
    AVCodecParameters* parameters = in->streams[i]->codecpar;
    if (parameters->codec_type != AVMEDIA_TYPE_VIDEO && parameters->codec_type != AVMEDIA_TYPE_AUDIO) continue;
    AVStream* stream = avformat_new_stream(out, nullptr);
    if (!stream || avcodec_parameters_copy(stream->codecpar, parameters) < 0) {
      return core::make_error("cannot copy the streams of " + file.display);
    }
    stream->codecpar->codec_tag = 0;
    stream->time_base = in->streams[i]->time_base;
    map[i] = stream->index;
  }
  if (out->nb_streams == 0) return core::make_error(file.display + " has neither video nor audio");
  if (int rc = avio_open_dyn_buf(&out->pb); rc < 0) return core::make_error("out of memory: " + av_error(rc));
  AVDictionary* options = nullptr;
  // No mux delay: the timestamps stay the source's, so the cut can join files.
  av_dict_set(&options, "muxdelay", "0", 0);
  int rc = avformat_write_header(out, &options);
  av_dict_free(&options);
  if (rc < 0) return core::make_error("cannot start MPEG-TS for " + file.display + ": " + av_error(rc));
  AVPacket* packet = av_packet_alloc();
  while ((rc = av_read_frame(in, packet)) >= 0) {
    int index = map[std::size_t(packet->stream_index)];
    if (index >= 0) {
      av_packet_rescale_ts(packet, in->streams[packet->stream_index]->time_base, out->streams[index]->time_base);
      packet->stream_index = index;
      packet->pos = -1;
      if (int written = av_interleaved_write_frame(out, packet); written < 0) {
        av_packet_free(&packet);
        return core::make_error("cannot remux " + file.display + ": " + av_error(written));
      }
    }
    av_packet_unref(packet);
  }
  av_packet_free(&packet);
  if (rc != AVERROR_EOF) return core::make_error("cannot read " + file.display + ": " + av_error(rc));
  if (int ended = av_write_trailer(out); ended < 0) return core::make_error("cannot end MPEG-TS: " + av_error(ended));
  std::uint8_t* buffer = nullptr;
  int size = avio_close_dyn_buf(out->pb, &buffer);
  out->pb = nullptr;
  std::string bytes(reinterpret_cast<const char*>(buffer), std::size_t(std::max(size, 0)));
  av_free(buffer);
  return bytes;
}

}  // namespace wubd::media
