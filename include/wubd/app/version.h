#pragma once

#include <string>
#include <utility>
#include <vector>

// What wubd is: its version (`git describe` when it was built) and the versions of the
// libraries it runs on, for --version, /metrics (wubd_build_info) and the console.
namespace wubd::app {

std::string version();

// (library, version) for libuv, curl, llhttp, FFmpeg (libavformat), OpenSSL,
// simdjson and spdlog, as linked (run time) where the library can tell.
std::vector<std::pair<std::string, std::string>> library_versions();

// `wubd <version>` then one line per library: what --version prints.
std::string version_text();

}  // namespace wubd::app
