#include "wubd/core/ts_retimer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace wubd::core {
namespace ts_retimer_test {

constexpr std::int64_t kWrap = std::int64_t(1) << 33;
constexpr int kVideo = 0x100, kAudio = 0x101;

void put_stamp(std::string& p, std::size_t at, int prefix, std::int64_t v) {
  v = ((v % kWrap) + kWrap) % kWrap;
  p[at] = char((prefix << 4) | ((v >> 29) & 0x0E) | 1);
  p[at + 1] = char(v >> 22);
  p[at + 2] = char(((v >> 14) & 0xFE) | 1);
  p[at + 3] = char(v >> 7);
  p[at + 4] = char(((v << 1) & 0xFE) | 1);
}

std::int64_t get_stamp(const std::string& p, std::size_t at) {
  auto b = [&](std::size_t i) { return std::int64_t(static_cast<unsigned char>(p[at + i])); };
  return (b(0) >> 1 & 7) << 30 | b(1) << 22 | (b(2) >> 1) << 15 | b(3) << 7 | b(4) >> 1;
}

// One 188-byte packet starting a PES on `pid` with a PTS (and a DTS if given), and a
// PCR (= dts) in an adaptation field when `pcr`.
std::string pes_packet(int pid, std::int64_t pts, std::int64_t dts = -1, bool pcr = false) {
  std::string p(188, '\xff');
  p[0] = 0x47;
  p[1] = char(0x40 | (pid >> 8));
  p[2] = char(pid & 0xff);
  std::size_t at = 4;
  if (pcr) {
    p[3] = 0x30;
    p[4] = 7;
    p[5] = 0x10;
    std::int64_t base = dts >= 0 ? dts : pts;
    p[6] = char(base >> 25);
    p[7] = char(base >> 17);
    p[8] = char(base >> 9);
    p[9] = char(base >> 1);
    p[10] = char(((base & 1) << 7) | 0x7e);
    p[11] = 0;
    at = 12;
  } else {
    p[3] = 0x10;
  }
  const char header[] = {0, 0, 1, char(0xE0), 0, 0, char(0x80), char(dts >= 0 ? 0xC0 : 0x80), char(dts >= 0 ? 10 : 5)};
  p.replace(at, sizeof header, header, sizeof header);
  put_stamp(p, at + 9, dts >= 0 ? 3 : 2, pts);
  if (dts >= 0) put_stamp(p, at + 14, 1, dts);
  return p;
}

struct Stamp {
  int pid;
  std::int64_t pts, dts;
};

std::vector<Stamp> stamps_of(const std::string& ts) {
  std::vector<Stamp> out;
  for (std::size_t at = 0; at + 188 <= ts.size(); at += 188) {
    std::string p = ts.substr(at, 188);
    int pid = ((p[1] & 0x1f) << 8) | static_cast<unsigned char>(p[2]);
    std::size_t pes = (p[3] & 0x20) ? 5 + static_cast<unsigned char>(p[4]) : 4;
    bool has_dts = (static_cast<unsigned char>(p[pes + 7]) >> 6) == 3;
    std::int64_t pts = get_stamp(p, pes + 9);
    out.push_back({pid, pts, has_dts ? get_stamp(p, pes + 14) : pts});
  }
  return out;
}

// A part: video at 30 fps with a 2-frame reorder delay, audio every 1920 ticks,
// starting at `t` (90 kHz).
std::string part(std::int64_t t, int frames) {
  std::string out;
  for (int i = 0; i < frames; ++i) {
    out += pes_packet(kVideo, t + (i + 2) * 3000, t + i * 3000, i % 10 == 0);
    out += pes_packet(kAudio, t - 1000 + i * 1920);
  }
  return out;
}

void expect_rising(const std::vector<Stamp>& stamps) {
  std::int64_t last[2] = {-1, -1};
  for (const Stamp& s : stamps) {
    std::int64_t& l = last[s.pid == kVideo ? 0 : 1];
    EXPECT_GT(s.dts, l) << "pid " << s.pid;
    l = s.dts;
  }
}

TEST(TsRetimer, TheFirstPartPassesUnchanged) {
  TsRetimer retimer;
  std::string first = part(900'000, 20);
  std::string out = retimer.begin_part();
  out += retimer.feed(first);
  out += retimer.finish();
  EXPECT_EQ(out, first);
}

TEST(TsRetimer, APartEarlierInTimeContinuesAfterThePartBefore) {
  TsRetimer retimer;
  std::string out = retimer.feed(part(900'000, 20));
  out += retimer.begin_part();
  out += retimer.feed(part(90'000, 20));  // a range from earlier in the stream
  out += retimer.finish();
  auto stamps = stamps_of(out);
  ASSERT_EQ(stamps.size(), 80u);
  expect_rising(stamps);
  // Video continues a frame after its last decode time; audio keeps its lead on it.
  EXPECT_EQ(stamps[40].dts, stamps[38].dts + 3000);
  EXPECT_EQ(stamps[41].pts - stamps[40].dts, 90'000 - 1000 - 90'000);
  EXPECT_EQ(stamps[42].pts - stamps[40].pts, 3000) << "the spacing inside a part is kept";
}

TEST(TsRetimer, AHoleIsClosed) {
  TsRetimer retimer;
  std::string out = retimer.feed(part(900'000, 20));
  out += retimer.begin_part();  // operands of + are unsequenced: one call a statement
  out += retimer.feed(part(900'000 + 20 * 3000 + 180'000, 20));
  out += retimer.finish();
  auto stamps = stamps_of(out);
  expect_rising(stamps);
  EXPECT_EQ(stamps[40].dts - stamps[38].dts, 3000) << "no 2 s gap";
}

TEST(TsRetimer, TimestampsAcrossThe33BitWrapStayContinuous) {
  TsRetimer retimer;
  std::string out = retimer.feed(part(kWrap - 30'000, 20));  // wraps inside the part
  out += retimer.begin_part();
  out += retimer.feed(part(50'000, 20));
  out += retimer.finish();
  auto stamps = stamps_of(out);
  std::int64_t last = -1, unwrapped_last = -1, turns = 0;
  for (const Stamp& s : stamps) {
    if (s.pid != kVideo) continue;
    if (last >= 0 && s.dts < last) ++turns;
    std::int64_t unwrapped = s.dts + turns * kWrap;
    EXPECT_GT(unwrapped, unwrapped_last);
    unwrapped_last = unwrapped;
    last = s.dts;
  }
  EXPECT_EQ(turns, 1);
}

TEST(TsRetimer, BytesFedInPiecesComeOutAsWhenFedWhole) {
  std::string a = part(900'000, 30), b = part(3'000, 30);
  TsRetimer whole;
  std::string expected = whole.feed(a);
  expected += whole.begin_part();
  expected += whole.feed(b);
  expected += whole.finish();
  TsRetimer pieces;
  std::string out;
  for (std::size_t at = 0; at < a.size(); at += 77) out += pieces.feed(std::string_view(a).substr(at, 77));
  out += pieces.begin_part();
  for (std::size_t at = 0; at < b.size(); at += 1000) out += pieces.feed(std::string_view(b).substr(at, 1000));
  out += pieces.finish();
  EXPECT_TRUE(out == expected) << out.size() << " bytes vs " << expected.size();
}

TEST(TsRetimer, PacketsItDoesNotUnderstandPassUnchanged) {
  TsRetimer retimer;
  std::string table(188, '\0');
  table[0] = 0x47;
  table[1] = 0x40;  // a PAT
  table[3] = 0x10;
  std::string garbage(188, 'x');
  std::string out = retimer.feed(part(900'000, 2));
  out += retimer.begin_part();
  out += retimer.feed(table + garbage);
  out += retimer.feed(part(0, 2));
  out += retimer.finish();
  EXPECT_EQ(out.substr(4 * 188, 2 * 188), table + garbage);
}

TEST(ShiftTimestamps, MovesEveryStampModulo33Bits) {
  std::string in = part(kWrap - 6000, 4);
  auto before = stamps_of(in);
  auto after = stamps_of(shift_timestamps(in, 9000));
  ASSERT_EQ(before.size(), after.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(after[i].pts, (before[i].pts + 9000) % kWrap);
    EXPECT_EQ(after[i].dts, (before[i].dts + 9000) % kWrap);
  }
  EXPECT_EQ(shift_timestamps(in, 0), in);
}

}  // namespace ts_retimer_test
}  // namespace wubd::core
