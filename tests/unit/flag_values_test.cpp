#include "wubd/core/flag_values.h"

#include <gtest/gtest.h>

namespace wubd::core {
namespace flag_values_test {

TEST(ListenAddress, Forms) {
  struct Case {
    const char* text;
    const char* host;
    int port;
  } cases[] = {
      {"127.0.0.1:8000", "127.0.0.1", 8000},
      {"localhost:80", "localhost", 80},
      {"[::1]:0", "::1", 0},
      {":8000", "", 8000},  // every interface
      {"8000", "", 8000},
      {"0.0.0.0:65535", "0.0.0.0", 65535},
  };
  for (const Case& c : cases) {
    auto address = parse_listen_address(c.text);
    ASSERT_TRUE(address) << c.text << ": " << address.error().message;
    EXPECT_EQ(address->host, c.host) << c.text;
    EXPECT_EQ(address->port, c.port) << c.text;
  }
}

TEST(ListenAddress, BadValuesSayWhy) {
  for (const char* bad :
       {":99999999999", ":65536", ":-1", "host:", "", "[::1]8000", "::1:8000", "a:b", "[]:80", ":80x"}) {
    auto address = parse_listen_address(bad);
    ASSERT_FALSE(address) << bad;
    EXPECT_NE(address.error().message.find(std::string("\"") + bad + "\""), std::string::npos)
        << address.error().message;
  }
}

TEST(SourceLimit, StrictValues) {
  auto plain = parse_source_limit("http://peer:8000/=2");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->source, "http://peer:8000");
  EXPECT_EQ(plain->max_concurrent, 2);
  EXPECT_EQ(plain->min_delay, 0);
  auto delayed = parse_source_limit("s=3,0.25");
  ASSERT_TRUE(delayed);
  EXPECT_EQ(delayed->min_delay, 250'000);
  for (const char* bad : {"s=2,abc", "s=0", "s=-1", "s=x", "=2", "s", "s=2,", "s=2,-1", "s=1.5", "s=99999999999999"}) {
    auto limit = parse_source_limit(bad);
    ASSERT_FALSE(limit) << bad;
    EXPECT_NE(limit.error().message.find("SOURCE=N"), std::string::npos) << limit.error().message;
  }
}

TEST(WholeNumber, Range) {
  EXPECT_EQ(*parse_whole_number("42", 1, 100), 42);
  EXPECT_FALSE(parse_whole_number("0", 1, 100));
  EXPECT_FALSE(parse_whole_number("4.2", 1, 100));
  EXPECT_FALSE(parse_whole_number("99999999999999999999999", 1, 100));
}

}  // namespace flag_values_test
}  // namespace wubd::core
