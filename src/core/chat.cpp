#include "wubd/core/chat.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>

#include <simdjson.h>

namespace wubd::core {
namespace {

std::string minified(simdjson::dom::element value) { return simdjson::minify(value); }

// Whether two messages can be the same one, and if so the merged message.
std::optional<ChatMessage> merge_message(const ChatMessage& a, const ChatMessage& b) {
  double range_start = std::max(a.time, b.time);
  double range_end = std::min(a.time + a.time_range, b.time + b.time_range);
  if (range_end < range_start) return std::nullopt;
  auto others = [](const ChatMessage& m) {
    std::map<std::string_view, std::string_view> out;
    for (const auto& [key, value] : m.fields) {
      if (key != "time" && key != "time_range" && key != "receivers") out[key] = value;
    }
    return out;
  };
  if (others(a) != others(b)) return std::nullopt;
  ChatMessage merged = a;
  merged.time = range_start;
  merged.time_range = range_end - range_start;
  for (auto& [key, value] : merged.fields) {
    if (key == "time") value = json_number(merged.time);
    if (key == "time_range") value = json_number(merged.time_range);
  }
  for (const auto& receiver : b.receivers) {
    auto it = std::find_if(merged.receivers.begin(), merged.receivers.end(),
                           [&](const auto& entry) { return entry.first == receiver.first; });
    if (it == merged.receivers.end()) {
      merged.receivers.push_back(receiver);
    } else {
      it->second = receiver.second;  // Python's a | b: b's word wins
    }
  }
  return merged;
}

}  // namespace

Result<std::vector<ChatMessage>> parse_chat_batch(std::string_view text) {
  std::vector<ChatMessage> messages;
  simdjson::dom::parser parser;
  std::size_t line_number = 0;
  while (!text.empty()) {
    std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto bad = [&](const std::string& why) {
      return make_error("line " + std::to_string(line_number) + " is not a chat message: " + why);
    };
    simdjson::dom::object object;
    if (auto error = parser.parse(line.data(), line.size()).get(object)) return bad(simdjson::error_message(error));
    ChatMessage message;
    bool has_time = false, has_range = false;
    for (auto [key, value] : object) {
      std::string name(key);
      if (name == "time" || name == "time_range") {
        double number;
        if (value.get_double().get(number)) return bad(name + " is not a number");
        (name == "time" ? message.time : message.time_range) = number;
        (name == "time" ? has_time : has_range) = true;
      } else if (name == "receivers") {
        simdjson::dom::object receivers;
        if (value.get_object().get(receivers)) return bad("receivers is not an object");
        for (auto [node, when] : receivers) message.receivers.emplace_back(std::string(node), minified(when));
      } else if (name == "tags") {
        std::string_view id;
        if (value.is_object() && !value["id"].get_string().get(id)) message.id = std::string(id);
      }
      message.fields.emplace_back(std::move(name), minified(value));
    }
    if (!has_time || !has_range) return bad("no time or time_range");
    messages.push_back(std::move(message));
  }
  return messages;
}

std::vector<ChatMessage> merge_chat(std::vector<ChatMessage> left, std::vector<ChatMessage> right) {
  if (left.empty()) return right;
  if (right.empty()) return left;
  // Messages with an id, grouped in the order first seen (Python's dict order).
  std::vector<std::string> id_order;
  std::map<std::string, std::vector<ChatMessage>> by_id;
  std::vector<ChatMessage> unmatched[2];
  int side = 0;
  for (std::vector<ChatMessage>* messages : {&left, &right}) {
    for (ChatMessage& message : *messages) {
      if (message.id.empty()) {
        unmatched[side].push_back(std::move(message));
        continue;
      }
      auto& group = by_id[message.id];
      if (group.empty()) id_order.push_back(message.id);
      group.push_back(std::move(message));
    }
    ++side;
  }
  std::vector<ChatMessage> result;
  for (const std::string& id : id_order) {
    std::vector<ChatMessage>& group = by_id[id];
    ChatMessage merged = std::move(group.front());
    for (std::size_t i = 1; i < group.size(); ++i) {
      // wubloader refuses two different messages with one id (a 500); both are kept here.
      if (auto both = merge_message(merged, group[i])) {
        merged = std::move(*both);
      } else {
        result.push_back(std::move(group[i]));
      }
    }
    result.push_back(std::move(merged));
  }
  // Messages without an id: each of the left paired with the first of the right it matches.
  std::vector<ChatMessage>& right_left = unmatched[1];
  for (ChatMessage& message : unmatched[0]) {
    bool matched = false;
    for (auto it = right_left.begin(); it != right_left.end(); ++it) {
      if (auto merged = merge_message(message, *it)) {
        result.push_back(std::move(*merged));
        right_left.erase(it);
        matched = true;
        break;
      }
    }
    if (!matched) result.push_back(std::move(message));
  }
  for (ChatMessage& message : right_left) result.push_back(std::move(message));
  return result;
}

std::vector<ChatMessage> chat_in_range(std::vector<ChatMessage> messages, Micros start, Micros end) {
  const double from = double(start) / double(kMicrosPerSecond);
  const double to = double(end) / double(kMicrosPerSecond);
  std::erase_if(messages, [&](const ChatMessage& m) { return !(from <= m.time + m.time_range && m.time < to); });
  std::stable_sort(messages.begin(), messages.end(), [](const ChatMessage& a, const ChatMessage& b) {
    return a.time != b.time ? a.time < b.time : a.time_range < b.time_range;
  });
  return messages;
}

std::string json_number(double value) {
  char text[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(text, sizeof text, "%.*g", precision, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  std::string out = text;
  // Python writes a float with a fraction or an exponent: 5.0, not 5.
  if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
  return out;
}

bool chat_batch_in_range(Micros batch_start, Micros start, Micros end) {
  return start - 120 * kMicrosPerSecond < batch_start && batch_start < end + 60 * kMicrosPerSecond;
}

}  // namespace wubd::core
