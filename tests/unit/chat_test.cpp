#include "wubd/core/chat.h"

#include <gtest/gtest.h>

namespace wubd::core {
namespace chat_test {

std::vector<ChatMessage> batch(std::string_view text) {
  auto messages = parse_chat_batch(text);
  EXPECT_TRUE(messages) << (messages ? "" : messages.error().message);
  return messages ? *messages : std::vector<ChatMessage>{};
}

std::string field(const ChatMessage& m, std::string_view key) {
  for (const auto& [k, v] : m.fields) {
    if (k == key) return v;
  }
  return "";
}

TEST(Chat, BatchesParseLineByLineKeepingEveryFieldAsWritten) {
  auto messages = batch(
      "{\"command\":\"PRIVMSG\",\"receivers\":{\"a\":10.5},\"tags\":{\"id\":\"m1\"},\"text\":\"h\\u00e9\",\"time\":10."
      "5,"
      "\"time_range\":0}\n\n{\"command\":\"JOIN\",\"receivers\":{\"b\":21},\"time\":20,\"time_range\":5}\n");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].id, "m1");
  EXPECT_EQ(messages[0].time, 10.5);
  EXPECT_EQ(field(messages[0], "text"), "\"h\xC3\xA9\"");  // the same string, as UTF-8
  EXPECT_EQ(field(messages[0], "time_range"), "0");        // an integer stays one
  EXPECT_EQ(messages[1].id, "");
  EXPECT_EQ(messages[1].receivers.size(), 1u);
  auto bad = parse_chat_batch("{\"time\":1,\"time_range\":0}\nnot json\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("line 2"), std::string::npos);
  EXPECT_FALSE(parse_chat_batch("{\"command\":\"X\"}"));  // no time
}

TEST(Chat, MergingIsWubloadersCrdt) {
  auto a = batch(
      "{\"command\":\"PRIVMSG\",\"receivers\":{\"a\":10.5},\"tags\":{\"id\":\"m1\"},\"time\":10.5,\"time_range\":0}\n"
      "{\"command\":\"JOIN\",\"receivers\":{\"a\":25},\"sender\":\"fred\",\"time\":20,\"time_range\":5}");
  auto b = batch(
      "{\"command\":\"PRIVMSG\",\"receivers\":{\"b\":10.6},\"tags\":{\"id\":\"m1\"},\"time\":10.5,\"time_range\":0}\n"
      "{\"command\":\"JOIN\",\"receivers\":{\"b\":28},\"sender\":\"fred\",\"time\":22,\"time_range\":6}\n"
      "{\"command\":\"JOIN\",\"receivers\":{\"b\":90},\"sender\":\"fred\",\"time\":80,\"time_range\":1}");
  auto merged = chat_in_range(merge_chat(a, b), 0, 100 * kMicrosPerSecond);
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0].receivers.size(), 2u);  // one PRIVMSG, both receivers
  // The JOINs seen by both overlap on [22, 25]: one message at 22 for 3 s.
  EXPECT_EQ(merged[1].time, 22);
  EXPECT_EQ(merged[1].time_range, 3);
  EXPECT_EQ(field(merged[1], "time_range"), "3.0");
  EXPECT_EQ(merged[2].time, 80);  // a later JOIN overlaps nothing: kept apart
  // In any order, the same messages.
  auto other_way = chat_in_range(merge_chat(b, a), 0, 100 * kMicrosPerSecond);
  ASSERT_EQ(other_way.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(other_way[i].time, merged[i].time);
  // Reflexive: a batch merged with itself is itself.
  EXPECT_EQ(merge_chat(a, a).size(), a.size());
}

TEST(Chat, TheRangeKeepsMessagesThatMayHaveHappenedInIt) {
  auto messages = batch(
      "{\"command\":\"A\",\"receivers\":{},\"time\":5,\"time_range\":4}\n"
      "{\"command\":\"B\",\"receivers\":{},\"time\":10,\"time_range\":0}\n"
      "{\"command\":\"C\",\"receivers\":{},\"time\":20,\"time_range\":0}");
  auto kept = chat_in_range(messages, 9 * kMicrosPerSecond, 20 * kMicrosPerSecond);
  ASSERT_EQ(kept.size(), 2u);  // A ends at 9 (inclusive), C starts at the end (exclusive)
  EXPECT_EQ(field(kept[0], "command"), "\"A\"");
  // Batches from two minutes before the start to a minute after the end, both exclusive.
  EXPECT_FALSE(chat_batch_in_range(-20 * kMicrosPerSecond, 100 * kMicrosPerSecond, 200 * kMicrosPerSecond));
  EXPECT_TRUE(chat_batch_in_range(-19 * kMicrosPerSecond, 100 * kMicrosPerSecond, 200 * kMicrosPerSecond));
  EXPECT_TRUE(chat_batch_in_range(259 * kMicrosPerSecond, 100 * kMicrosPerSecond, 200 * kMicrosPerSecond));
  EXPECT_FALSE(chat_batch_in_range(260 * kMicrosPerSecond, 100 * kMicrosPerSecond, 200 * kMicrosPerSecond));
  EXPECT_EQ(json_number(1700000000.123), "1700000000.123");
  EXPECT_EQ(json_number(5), "5.0");
}

}  // namespace chat_test
}  // namespace wubd::core
