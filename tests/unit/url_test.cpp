#include "wubd/core/url.h"

#include <gtest/gtest.h>

namespace wubd::core {
namespace url_test {

TEST(PercentDecode, Table) {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"", ""}, {"abc", "abc"}, {"a%20b", "a b"}, {"%3a%3A", "::"}, {"a+b", "a+b"}, {"%25", "%"},
  };
  for (const Case& c : cases) {
    auto r = percent_decode(c.in);
    ASSERT_TRUE(r.ok()) << c.in;
    EXPECT_EQ(*r, c.out);
  }
  EXPECT_EQ(*percent_decode("a%00b"), std::string("a\0b", 3));
  for (const char* bad : {"%", "%2", "%zz", "a%g0", "%%"}) {
    auto r = percent_decode(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, 400);
  }
}

TEST(PercentEncode, OnlyUnreservedStay) {
  EXPECT_EQ(percent_encode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(percent_encode("00:00.5 /?#&=+%"), "00%3A00.5%20%2F%3F%23%26%3D%2B%25");
  EXPECT_EQ(percent_encode("\xff"), "%FF");
  EXPECT_EQ(*percent_decode(percent_encode("any thing:/?#[]@!$&'()*+,;=")), "any thing:/?#[]@!$&'()*+,;=");
}

TEST(Query, ParsesDecodesAndKeepsFirst) {
  auto q = parse_query("start=2026-11-21T04%3A05%3A06&end=2026-11-21T05:00:00+01:00&flag&start=later&&x=");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->at("start"), "2026-11-21T04:05:06");
  EXPECT_EQ(q->at("end"), "2026-11-21T05:00:00+01:00");
  EXPECT_EQ(q->at("flag"), "");
  EXPECT_EQ(q->at("x"), "");
  EXPECT_EQ(q->size(), 4u);
  EXPECT_TRUE(parse_query("")->empty());
  auto bad = parse_query("start=%zz");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("start"), std::string::npos);
}

}  // namespace url_test
}  // namespace wubd::core
