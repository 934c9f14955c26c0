#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wubd/core/result.h"
#include "wubd/core/time.h"

// wubloader's chat archive as /<stream>/chat.json serves it (common/chat.py): batch
// files hold one JSON message a line; a message has `time` and `time_range` (seconds:
// it happened somewhere in [time, time + time_range]), `receivers` (which nodes got
// it, and when) and whatever else the chat archiver wrote. Batches from several nodes
// overlap, so they are merged as wubloader merges them: a CRDT, the same result in
// any order.
namespace wubd::core {

struct ChatMessage {
  double time = 0;
  double time_range = 0;
  std::string id;  // tags.id, where the message has one
  // Every field as its minified JSON text, in the batch's order (`time` and
  // `time_range` as written, or as a merge made them); `receivers` holds its place
  // here, its value is the entries below (a merge joins them).
  std::vector<std::pair<std::string, std::string>> fields;
  // `receivers`' entries, each value as minified JSON text.
  std::vector<std::pair<std::string, std::string>> receivers;
};

// One batch file's messages; an error names the line that is not a message.
Result<std::vector<ChatMessage>> parse_chat_batch(std::string_view text);

// wubloader's merge_messages: messages with the same tags.id are one message (their
// time ranges intersected, their receivers joined); messages without an id are one
// if every field but time, time_range and receivers is equal and their time ranges
// overlap. What matches nothing is kept as it is.
std::vector<ChatMessage> merge_chat(std::vector<ChatMessage> left, std::vector<ChatMessage> right);

// The messages that may have happened in [start, end) (time + time_range >= start and
// time < end), sorted by time then time_range (stable, as Python's sort).
std::vector<ChatMessage> chat_in_range(std::vector<ChatMessage> messages, Micros start, Micros end);

// A number as the shortest text that reads back as the same double (Python's repr,
// which wubloader's json.dumps writes).
std::string json_number(double value);

// The batches worth reading for [start, end): a batch holds a minute of messages,
// and a message with a wide time range may sit in the batch before, so wubloader
// reads from two minutes before start to a minute after end (exclusive both ways).
bool chat_batch_in_range(Micros batch_start, Micros start, Micros end);

}  // namespace wubd::core
