// What SIGHUP compares: two effective configurations (CLI11's TOML dump), key by key.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "wubd/app/config.h"

namespace wubd::app {

std::vector<std::string> changed_keys(const std::string& before, const std::string& after) {
  auto lines = [](const std::string& text) {
    std::map<std::string, std::string> values;
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(start, end - start);
      if (std::size_t eq = line.find('='); eq != std::string::npos && line[0] != '#') {
        std::string key = line.substr(0, eq);
        while (!key.empty() && key.back() == ' ') key.pop_back();
        values[key] = line.substr(eq + 1);
      }
      start = end + 1;
    }
    return values;
  };
  std::map<std::string, std::string> a = lines(before), b = lines(after);
  std::set<std::string> keys;
  for (const auto& [key, value] : a) {
    auto it = b.find(key);
    if (it == b.end() || it->second != value) keys.insert(key);
  }
  for (const auto& [key, value] : b) {
    if (!a.count(key)) keys.insert(key);
  }
  return {keys.begin(), keys.end()};
}

}  // namespace wubd::app
