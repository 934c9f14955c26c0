// json-lines: reads lines on stdin and checks that each is one JSON object (parsed with
// simdjson, as a log shipper would). Prints, one per line, each object's keys as
// `key=value` joined by tabs, so a test can look for the fields it expects; exits 1
// at the first line that is not a JSON object, naming it.
#include <iostream>
#include <string>

#include <simdjson.h>

int main() {
  simdjson::dom::parser parser;
  std::string line;
  int number = 0;
  while (std::getline(std::cin, line)) {
    ++number;
    if (line.empty()) continue;
    simdjson::dom::object object;
    if (auto error = parser.parse(line).get(object)) {
      std::cerr << "line " << number << " is not a JSON object (" << simdjson::error_message(error) << "): " << line
                << "\n";
      return 1;
    }
    std::string out;
    for (auto field : object) {
      std::string_view value;
      if (!out.empty()) out += '\t';
      out += std::string(field.key) + "=";
      if (field.value.get_string().get(value) == simdjson::SUCCESS) {
        out += std::string(value);
      } else {
        out += simdjson::to_string(field.value);
      }
    }
    std::cout << out << "\n";
  }
  return 0;
}
