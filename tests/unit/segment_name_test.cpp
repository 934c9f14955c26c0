#include "wubd/core/segment_name.h"

#include <gtest/gtest.h>

namespace wubd::core {
namespace segment_name_test {

// sha256 of no bytes, as wubloader names it: base64.b64encode(digest, b"-_") without
// padding, i.e. '+' -> '-' and '/' -> '_' (RFC 4648 url-safe). Some write-ups of the
// format have those two characters swapped; wubloader's own code is the contract here.
const char kEmptyHash[] = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU";

Micros hour_start() { return *parse_hour("2026-11-21T04"); }

TEST(SegmentName, ParsesAllFourTypes) {
  struct Case {
    const char* name;
    SegmentType type;
  };
  const Case cases[] = {
      {"05:06.789012-2.0-full-47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU.ts", SegmentType::Full},
      {"05:06.789012-2.0-suspect-47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU.ts", SegmentType::Suspect},
      {"05:06.789012-2.0-partial-47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU.ts", SegmentType::Partial},
      {"05:06.789012-2.0-temp-0b7e3c1a-9f2d-4c55-8e1b-2f0c9d6a7b11.ts", SegmentType::Temp},
  };
  for (const auto& c : cases) {
    auto s = parse_segment_name(hour_start(), c.name);
    ASSERT_TRUE(s.ok()) << c.name << ": " << s.error().message;
    EXPECT_EQ(s->type, c.type);
    EXPECT_EQ(s->start, hour_start() + (5 * 60 + 6) * kMicrosPerSecond + 789'012);
    EXPECT_EQ(s->duration, 2 * kMicrosPerSecond);
    EXPECT_EQ(format_segment_name(*s), c.name);
  }
}

TEST(SegmentName, TimeAndDurationAreExact) {
  struct Case {
    const char* name;
    Micros offset;
    Micros duration;
  };
  const Case cases[] = {
      {"00:00.000000-2.002-full-AAAA.ts", 0, 2'002'000},
      {"59:59.999999-0.5-full-AAAA.ts", kMicrosPerHour - 1, 500'000},
      {"10:00.5-2-full-AAAA.ts", 600 * kMicrosPerSecond + 500'000, 2'000'000},
      {"10:00-2.0000004-full-AAAA.ts", 600 * kMicrosPerSecond, 2'000'000},
      {"10:00-2.0000005-full-AAAA.ts", 600 * kMicrosPerSecond, 2'000'001},
      {"10:00.000000-1.999999-full-AAAA.ts", 600 * kMicrosPerSecond, 1'999'999},
  };
  for (const auto& c : cases) {
    auto s = parse_segment_name(hour_start(), c.name);
    ASSERT_TRUE(s.ok()) << c.name << ": " << s.error().message;
    EXPECT_EQ(s->start - hour_start(), c.offset) << c.name;
    EXPECT_EQ(s->duration, c.duration) << c.name;
  }
}

TEST(SegmentName, BadNamesAreErrorsSayingWhy) {
  struct Case {
    const char* name;
    const char* why;
  };
  const Case cases[] = {
      {"05:06.789012-2.0-full-AAAA.mp4", "does not end in .ts"},
      {".ts", "does not end in .ts"},
      {"05:06.789012-2.0-full.ts", "not enough dashes"},
      {"05:06.789012-2.0-fulll-AAAA.ts", "unknown type"},
      {"5:06.789012-2.0-full-AAAA.ts", "time is not"},
      {"60:06.789012-2.0-full-AAAA.ts", "time is not"},
      {"05:66.789012-2.0-full-AAAA.ts", "time is not"},
      {"05:06.7890123-2.0-full-AAAA.ts", "time is not"},
      {"05:06,789012-2.0-full-AAAA.ts", "time is not"},
      {"05:06.78a012-2.0-full-AAAA.ts", "time is not"},
      {"05:06.789012-two-full-AAAA.ts", "duration"},
      {"05:06.789012-2.-full-AAAA.ts", "duration"},
      {"05:06.789012--full-AAAA.ts", "duration"},
      {"05:06.789012-1e3-full-AAAA.ts", "duration"},
      {"05:06.789012-2.0-full-.ts", "empty hash"},
      {"05:06.789012-2.0-full-AA=A.ts", "base64"},
      {"05:06.789012-2.0-full-A.ts", "base64"},
  };
  for (const auto& c : cases) {
    auto s = parse_segment_name(hour_start(), c.name);
    ASSERT_FALSE(s.ok()) << "accepted " << c.name;
    EXPECT_NE(s.error().message.find(c.why), std::string::npos) << c.name << ": " << s.error().message;
    EXPECT_NE(s.error().message.find(c.name), std::string::npos) << s.error().message;
  }
}

TEST(SegmentName, PathWithHourDirectory) {
  auto s = parse_segment_path("2026-11-21T04", "59:59.000000-2.0-full-AAAA.ts");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(format_hour(s->start), "2026-11-21T04");
  EXPECT_EQ(format_hour(s->end()), "2026-11-21T05");
  EXPECT_FALSE(parse_segment_path("2026-11-21", "00:00.000000-2.0-full-AAAA.ts").ok());
}

TEST(Duration, FormatsLikePythonFloatStr) {
  EXPECT_EQ(format_duration(2'000'000), "2.0");
  EXPECT_EQ(format_duration(2'002'000), "2.002");
  EXPECT_EQ(format_duration(1'999'999), "1.999999");
  EXPECT_EQ(format_duration(0), "0.0");
  EXPECT_EQ(format_duration(10'500'000), "10.5");
}

TEST(Hash, EncodesUrlSafeWithoutPadding) {
  EXPECT_EQ(encode_hash({}), "");
  const std::uint8_t sha256_of_empty[] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
                                          0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
                                          0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
  EXPECT_EQ(encode_hash(sha256_of_empty), kEmptyHash);
  auto decoded = decode_hash(kEmptyHash);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, std::vector<std::uint8_t>(std::begin(sha256_of_empty), std::end(sha256_of_empty)));

  const std::uint8_t bytes[] = {0xfb, 0xff, 0xfe};
  for (size_t n = 0; n <= 3; ++n) {
    std::span<const std::uint8_t> prefix(bytes, n);
    std::string text = encode_hash(prefix);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos) << text;
    auto back = decode_hash(text);
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(*back, std::vector<std::uint8_t>(prefix.begin(), prefix.end()));
  }
  EXPECT_FALSE(decode_hash("AB").ok());  // leftover bits set: not a canonical encoding
  EXPECT_FALSE(decode_hash("a+b/").ok());
}

}  // namespace segment_name_test
}  // namespace wubd::core
