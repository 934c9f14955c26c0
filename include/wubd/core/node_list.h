#pragma once

#include <string>
#include <string_view>
#include <vector>

// The peers file (--peers-file), in wubloader's node-file shape so that one file can
// serve a mixed cluster: one node a line, `NAME URL` or just `URL`; blank lines and
// lines whose first word starts with `#` are ignored; words after the URL are
// ignored, as wubloader ignores them.
namespace wubd::core {

struct NodeLine {
  std::string name;  // empty for a bare URL (wubloader then names it by its host)
  std::string url;
  int line = 0;  // 1-based, for log lines
};

std::vector<NodeLine> parse_node_lines(std::string_view text);

}  // namespace wubd::core
