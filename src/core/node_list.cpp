#include "wubd/core/node_list.h"

namespace wubd::core {

std::vector<NodeLine> parse_node_lines(std::string_view text) {
  std::vector<NodeLine> nodes;
  int number = 0;
  while (!text.empty()) {
    std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++number;
    std::vector<std::string_view> words;
    while (true) {
      std::size_t start = line.find_first_not_of(" \t\r\f\v");
      if (start == std::string_view::npos) break;
      line.remove_prefix(start);
      std::size_t end = line.find_first_of(" \t\r\f\v");
      words.push_back(line.substr(0, end));
      if (end == std::string_view::npos) break;
      line.remove_prefix(end);
    }
    if (words.empty() || words[0][0] == '#') continue;
    if (words.size() == 1) {
      nodes.push_back({"", std::string(words[0]), number});
    } else {
      nodes.push_back({std::string(words[0]), std::string(words[1]), number});
    }
  }
  return nodes;
}

}  // namespace wubd::core
