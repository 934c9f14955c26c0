#include "wubd/io/media_input.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

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

}  // namespace wubd::io
