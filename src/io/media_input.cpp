#include "wubd/io/media_input.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/error.h>
}

namespace wubd::io {

std::string av_error(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

core::Result<bool> open_media_input(AVFormatContext** context, const BeneathPath& file, const AVInputFormat* format) {
  int fd = open_beneath(file, O_RDONLY);
  if (fd < 0) {
    avformat_free_context(*context);
    *context = nullptr;
    std::string why = fd == -ELOOP ? "a symbolic link is on its path" : std::strerror(-fd);
    return core::make_error("cannot open " + file.display + ": " + why);
  }
  // libavformat opens the name again: /proc/self/fd/N reaches the file just opened.
  int rc = avformat_open_input(context, descriptor_path(fd).c_str(), format, nullptr);
  ::close(fd);
  if (rc < 0) return core::make_error("cannot open " + file.display + ": " + av_error(rc));
  return true;
}

bool is_fragmented_mp4(const BeneathPath& file) {
  int fd = open_beneath(file, O_RDONLY);
  if (fd < 0) return false;
  char head[8];
  ssize_t n = ::pread(fd, head, sizeof head, 0);
  ::close(fd);
  return n == 8 && std::memcmp(head + 4, "ftyp", 4) == 0;
}

core::Result<std::string> remux_to_mpegts(const BeneathPath& file) {
  AVFormatContext* in = nullptr;
  if (auto opened = open_media_input(&in, file); !opened) return opened.error();
  std::unique_ptr<AVFormatContext*, void (*)(AVFormatContext**)> in_closer(&in, avformat_close_input);
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

}  // namespace wubd::io
