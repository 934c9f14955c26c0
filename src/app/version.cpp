#include "wubd/app/version.h"

#include <curl/curl.h>
#include <llhttp.h>
#include <openssl/crypto.h>
#include <simdjson.h>
#include <spdlog/version.h>
#include <uv.h>
extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
}

namespace wubd::app {

extern const char* const kVersion;  // version_string.cpp, generated at build time

std::string version() { return kVersion; }

std::vector<std::pair<std::string, std::string>> library_versions() {
  unsigned format = avformat_version();
  return {
      {"libuv", uv_version_string()},
      {"curl", curl_version_info(CURLVERSION_NOW)->version},
      {"llhttp", std::to_string(LLHTTP_VERSION_MAJOR) + "." + std::to_string(LLHTTP_VERSION_MINOR) + "." +
                     std::to_string(LLHTTP_VERSION_PATCH)},
      {"ffmpeg", std::string(av_version_info()) + " (libavformat " + std::to_string(format >> 16) + "." +
                     std::to_string((format >> 8) & 0xff) + "." + std::to_string(format & 0xff) + ")"},
      {"openssl", OpenSSL_version(OPENSSL_VERSION)},
      {"simdjson", std::to_string(simdjson::SIMDJSON_VERSION_MAJOR) + "." +
                       std::to_string(simdjson::SIMDJSON_VERSION_MINOR) + "." +
                       std::to_string(simdjson::SIMDJSON_VERSION_REVISION)},
      {"spdlog", std::to_string(SPDLOG_VER_MAJOR) + "." + std::to_string(SPDLOG_VER_MINOR) + "." +
                     std::to_string(SPDLOG_VER_PATCH)},
  };
}

std::string version_text() {
  std::string text = "wubd " + version() + "\n";
  for (const auto& [name, v] : library_versions()) {
    text += "  ";
    text += name;
    text += " ";
    text += v;
    text += "\n";
  }
  return text;
}

}  // namespace wubd::app
