#include "fault.h"

#include <set>
#include <sstream>

namespace wubd::fake_origin {
namespace {

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) parts.push_back(part);
  return parts;
}

}  // namespace

std::optional<Fault> parse_fault(const std::string& spec, std::string& error) {
  static const std::set<std::string> classes = {"master", "media", "segment", "gql", "any"};
  static const std::set<std::string> kinds = {"status",   "delay", "stall",   "reset",
                                              "truncate", "stale", "garbage", "empty"};
  std::vector<std::string> parts = split(spec, ':');
  if (parts.size() < 2 || !classes.count(parts[0]) || !kinds.count(parts[1])) {
    error = "--fault " + spec +
            ": expected CLASS:KIND[:key=value…] with CLASS master|media|segment|gql|any "
            "and KIND status|delay|stall|reset|truncate|stale|garbage|empty";
    return std::nullopt;
  }
  Fault fault;
  fault.spec = spec;
  fault.klass = parts[0];
  fault.kind = parts[1];
  for (std::size_t i = 2; i < parts.size(); ++i) {
    std::size_t eq = parts[i].find('=');
    std::string key = parts[i].substr(0, eq);
    std::string value = eq == std::string::npos ? "" : parts[i].substr(eq + 1);
    try {
      if (key == "code")
        fault.code = std::stoi(value);
      else if (key == "seconds")
        fault.seconds = std::stod(value);
      else if (key == "p")
        fault.probability = std::stod(value);
      else if (key == "n")
        fault.max_count = std::stol(value);
      else if (key == "after")
        fault.after_s = std::stod(value);
      else if (key == "until")
        fault.until_s = std::stod(value);
      else if (key == "variant")
        fault.variant = value;
      else if (key == "repeat")
        fault.repeat_only = value.empty() || value == "1";
      else {
        error = "--fault " + spec + ": unknown key " + key;
        return std::nullopt;
      }
    } catch (const std::exception&) {
      error = "--fault " + spec + ": bad value for " + key;
      return std::nullopt;
    }
  }
  return fault;
}

Fault* pick_fault(std::vector<Fault>& faults, const std::string& klass, const std::string& variant, double elapsed_s,
                  std::mt19937_64& random, bool repeat) {
  for (Fault& fault : faults) {
    if (fault.klass != "any" && fault.klass != klass) continue;
    if (fault.repeat_only && !repeat) continue;
    if (!fault.variant.empty() && fault.variant != variant) continue;
    if (elapsed_s < fault.after_s || (fault.until_s >= 0 && elapsed_s >= fault.until_s)) continue;
    if (fault.max_count >= 0 && fault.fired >= fault.max_count) continue;
    if (std::uniform_real_distribution<double>(0, 1)(random) >= fault.probability) continue;
    ++fault.fired;
    return &fault;
  }
  return nullptr;
}

}  // namespace wubd::fake_origin
