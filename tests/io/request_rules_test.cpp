#include "wubd/io/request_rules.h"

#include <gtest/gtest.h>

namespace wubd::io {
namespace request_rules_test {

using Headers = std::vector<std::pair<std::string, std::string>>;

TEST(RequestRules, WhitespaceBeforeTheColonIsRefusedNamingTheHeader) {
  EXPECT_FALSE(judge_header_name("x-forwarded-for"));
  auto refusal = judge_header_name("host ");
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->status, 400);
  EXPECT_EQ(refusal->message, "whitespace between the header name host and its colon");
  EXPECT_TRUE(judge_header_name("x-a\t"));
}

TEST(RequestRules, VersionsHostsAndTransferEncoding) {
  EXPECT_FALSE(judge_head(1, 1, Headers{{"host", "a"}}));
  EXPECT_FALSE(judge_head(1, 0, Headers{}));
  EXPECT_EQ(judge_head(2, 0, Headers{{"host", "a"}})->status, 505);
  EXPECT_EQ(judge_head(2, 0, Headers{{"host", "a"}})->message,
            "HTTP/2.0 is not supported: this server speaks HTTP/1.0 and HTTP/1.1");
  EXPECT_EQ(judge_head(9, 9, Headers{{"host", "a"}})->status, 505);
  // A later HTTP/1 minor version is 1.1, Host rule included.
  EXPECT_FALSE(judge_head(1, 2, Headers{{"host", "a"}}));
  EXPECT_FALSE(judge_head(1, 9, Headers{{"host", "a"}}));
  EXPECT_EQ(judge_head(1, 9, Headers{})->message, "missing Host header (HTTP/1.1 requires one)");
  EXPECT_EQ(judge_head(0, 9, Headers{{"host", "a"}})->message, http09_refusal().message);
  EXPECT_EQ(judge_head(1, 1, Headers{})->message, "missing Host header (HTTP/1.1 requires one)");
  EXPECT_EQ(judge_head(1, 0, Headers{{"host", "a"}, {"host", "b"}})->message, "more than one Host header");
  EXPECT_EQ(judge_head(1, 0, Headers{{"transfer-encoding", "chunked"}})->message,
            "Transfer-Encoding in an HTTP/1.0 request");
  EXPECT_FALSE(judge_head(1, 1, Headers{{"host", "a"}, {"transfer-encoding", "chunked"}}));
}

TEST(RequestRules, AnUnknownTokenMethodIs405WithAllowAnythingElse400) {
  auto lower = judge_unknown_method("get /files HTTP/1.1\r\n");
  ASSERT_TRUE(lower);
  EXPECT_EQ(lower->status, 405);
  EXPECT_EQ(lower->message, "method get not allowed; use GET or HEAD (methods are case-sensitive)");
  EXPECT_EQ(lower->extra_headers, "Allow: GET, HEAD, OPTIONS\r\n");
  EXPECT_EQ(judge_unknown_method("BREW /pot HTTP/1.1\r\n")->message, "method BREW not allowed; use GET or HEAD");
  EXPECT_EQ(judge_unknown_method("G(T / HTTP/1.1\r\n")->status, 400);
  EXPECT_EQ(judge_unknown_method(" / HTTP/1.1\r\n")->status, 400);
  EXPECT_EQ(judge_unknown_method("GET0\r\n")->status, 400);
  // Not yet known: the method may go on, and the answer must not depend on the reads.
  EXPECT_FALSE(judge_unknown_method("BREW"));
  EXPECT_FALSE(judge_unknown_method(""));
  // A method this long is judged without its end, and named cut short.
  std::string long_method(200, 'X');
  auto long_one = judge_unknown_method(long_method);
  ASSERT_TRUE(long_one);
  EXPECT_EQ(long_one->status, 405);
  EXPECT_LT(long_one->message.size(), 100u);
  EXPECT_EQ(judge_unknown_method(long_method.substr(0, 40) + " / HTTP/1.1")->message, long_one->message);
}

OriginTarget origin(std::string_view method, std::string_view target) {
  auto judged = judge_target(method, target);
  if (auto* refusal = std::get_if<Refusal>(&judged)) ADD_FAILURE() << target << ": " << refusal->message;
  return std::get_if<OriginTarget>(&judged) ? std::get<OriginTarget>(judged) : OriginTarget{};
}

int refused(std::string_view method, std::string_view target) {
  auto judged = judge_target(method, target);
  return std::get_if<Refusal>(&judged) ? std::get<Refusal>(judged).status : 0;
}

TEST(RequestRules, TargetsInEveryForm) {
  EXPECT_EQ(origin("GET", "/files/db?x=1").path, "/files/db");
  EXPECT_EQ(origin("GET", "/files/db?x=1").query, "x=1");
  EXPECT_EQ(origin("GET", "/a?").query, "");
  // Absolute form: path and query as sent, dot segments kept for the routes to refuse.
  EXPECT_EQ(origin("GET", "http://node:8000/files/../x?a=%2B1").path, "/files/../x");
  EXPECT_EQ(origin("GET", "http://node:8000/files/../x?a=%2B1").query, "a=%2B1");
  EXPECT_EQ(origin("GET", "HTTPS://node").path, "/");
  EXPECT_EQ(refused("GET", "ftp://node/files"), 400);
  EXPECT_EQ(refused("GET", "files"), 400);
  EXPECT_EQ(refused("GET", "http://"), 400);
  // Asterisk form is OPTIONS's alone.
  EXPECT_EQ(origin("OPTIONS", "*").path, "*");
  EXPECT_EQ(refused("GET", "*"), 400);
}

}  // namespace request_rules_test
}  // namespace wubd::io
