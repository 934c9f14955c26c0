#pragma once

#include <string_view>
#include <vector>

// The editor page's files, built into the binary (tools/embed_files.py writes them
// at build time from src/ui/ and the pinned hls.js), served under /ui/.
namespace wubd::restreamer {

struct EmbeddedFile {
  std::string_view name;  // "index.html", "editor.js", "hls.min.js"
  std::string_view content_type;
  std::string_view bytes;
};

const std::vector<EmbeddedFile>& embedded_files();

}  // namespace wubd::restreamer
