#include "wubd/core/cut_plan.h"
#include "segment_refs.h"

#include <gtest/gtest.h>

namespace wubd::core {
namespace cut_plan_test {

constexpr Micros kS = kMicrosPerSecond;
const Micros kBase = *parse_time("2026-11-21T04:00:00Z");
const RangeCap kCap{6 * 3600 * kS, "--max-cut-hours"};

StoredSegment segment(Micros start_offset, Micros duration, SegmentType type = SegmentType::Full) {
  StoredSegment s;
  s.name.start = kBase + start_offset;
  s.name.duration = duration;
  s.name.type = type;
  s.hour = "2026-11-21T04";
  s.file_name = "x.ts";
  return s;
}

TEST(CutPlan, ParsesParametersWithDefaultsAndClearErrors) {
  CutRange available{kBase, kBase + 3600 * kS};
  auto plain = parse_cut_request("start=2026-11-21T04:00:01Z&end=2026-11-21T04:00:05.5Z", available, kCap);
  ASSERT_TRUE(plain) << plain.error().message;
  ASSERT_EQ(plain->ranges.size(), 1u);
  EXPECT_EQ(plain->ranges[0].start, kBase + kS);
  EXPECT_EQ(plain->ranges[0].end, kBase + 5'500'000);
  EXPECT_EQ(plain->type, CutType::Rough);
  EXPECT_FALSE(plain->allow_holes);

  auto defaults = parse_cut_request("type=smart&allow_holes=TRUE", available, kCap);
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->ranges[0].start, available.start);
  EXPECT_EQ(defaults->ranges[0].end, available.end);
  EXPECT_EQ(defaults->type, CutType::Smart);
  EXPECT_TRUE(defaults->allow_holes);

  auto ranges = parse_cut_request(
      "range=2026-11-21T04:00:10Z,2026-11-21T04:00:12Z&range=2026-11-21T04:00:02Z,2026-11-21T04:00:04Z&type=mp4",
      available, kCap);
  ASSERT_TRUE(ranges);
  ASSERT_EQ(ranges->ranges.size(), 2u);
  EXPECT_EQ(ranges->ranges[0].start, kBase + 10 * kS);  // in the order given
  EXPECT_EQ(ranges->ranges[1].end, kBase + 4 * kS);
  EXPECT_EQ(ranges->type, CutType::Mp4);

  EXPECT_EQ(parse_cut_request("experimental=true", available, kCap)->type, CutType::Fast);
  EXPECT_EQ(parse_cut_request("experimental=true&type=smart", available, kCap)->type, CutType::Smart);

  struct Bad {
    const char* query;
    const char* message_part;
  };
  const Bad bad[] = {
      {"start=2026-11-21T04:00:05Z&end=2026-11-21T04:00:05Z", "End must be after start"},
      {"start=2026-11-21T04:00:05Z&end=2026-11-21T04:00:01Z", "End must be after start"},
      {"start=yesterday", "Bad start"},
      {"end=2026-13-01", "Bad end"},
      {"allow_holes=maybe", "allow_holes must be one of"},
      {"type=slow", "Unknown type \"slow\": use rough, fast, smart, mpegts, mp4 or webm"},
      {"range=2026-11-21T04:00:05Z", "expected START,END"},
      {"range=2026-11-21T04:00:05Z,later", "Bad range"},
      {"range=2026-11-21T04:00:05Z,2026-11-21T04:00:01Z", "End must be after start"},
      {"start=2026-11-21T00:00:00Z&end=2026-11-21T06:00:01Z", "--max-cut-hours"},
      {"start=0001-01-01T00:00:00Z&end=9999-12-31T00:00:00Z", "--max-cut-hours"},
      {"start=0000-01-01T00:00:00Z&end=2026-11-21T04:00:05Z", "year out of range"},
      {"range=2026-11-21T00:00:00Z,2026-11-21T04:00:00Z&range=2026-11-21T05:00:00Z,2026-11-21T07:00:01Z",
       "range of 6.0 hours is longer than the 6.0 hours --max-cut-hours allows"},
  };
  for (const Bad& b : bad) {
    auto result = parse_cut_request(b.query, available, kCap);
    ASSERT_FALSE(result) << b.query;
    EXPECT_EQ(result.error().code, 400) << b.query;
    EXPECT_NE(result.error().message.find(b.message_part), std::string::npos)
        << b.query << ": " << result.error().message;
  }
  EXPECT_TRUE(parse_cut_request("start=2026-11-21T00:00:00Z&end=2026-11-21T06:00:00Z", available, kCap))
      << "exactly the cap";
  CutRange long_archive{kBase - 100 * 3600 * kS, kBase + 3600 * kS};
  auto whole = parse_cut_request("", long_archive, kCap);
  ASSERT_FALSE(whole) << "the whole of a long archive by default";
  EXPECT_NE(whole.error().message.find("--max-cut-hours"), std::string::npos);
  auto no_default = parse_cut_request("end=2026-11-21T04:00:05Z", std::nullopt, kCap);
  ASSERT_FALSE(no_default);
  EXPECT_NE(no_default.error().message.find("start is required"), std::string::npos);
}

TEST(CutPlan, TrimsFirstAndLastAndSumsTheDuration) {
  std::vector<StoredSegment> s = {segment(0, 2 * kS), segment(2 * kS, 2 * kS), segment(4 * kS, 2 * kS)};
  struct Case {
    const char* what;
    CutRange range;
    std::vector<std::pair<std::optional<Micros>, std::optional<Micros>>> trims;
    Micros duration;
  };
  const Case cases[] = {
      {"inside one segment", {kBase + 500'000, kBase + 1'500'000}, {{500'000, 1'500'000}}, kS},
      {"across three", {kBase + 1'000'000, kBase + 5'000'000}, {{kS, std::nullopt}, {}, {std::nullopt, kS}}, 4 * kS},
      {"exact boundaries: nothing trimmed", {kBase, kBase + 6 * kS}, {{}, {}, {}}, 6 * kS},
      {"end on a boundary", {kBase + 250'000, kBase + 4 * kS}, {{250'000, std::nullopt}, {}}, 3'750'000},
  };
  for (const Case& c : cases) {
    std::vector<SegmentOrHole> best;
    for (const auto& seg : s) {
      if (seg.name.end() > c.range.start && seg.name.start < c.range.end) best.push_back(borrowed(seg));
    }
    auto plan = plan_cut(best, c.range, false);
    ASSERT_TRUE(plan) << c.what << ": " << plan.error().message;
    ASSERT_EQ(plan->pieces.size(), c.trims.size()) << c.what;
    for (std::size_t i = 0; i < c.trims.size(); ++i) {
      EXPECT_EQ(plan->pieces[i].trim_start, c.trims[i].first) << c.what << " #" << i;
      EXPECT_EQ(plan->pieces[i].trim_end, c.trims[i].second) << c.what << " #" << i;
    }
    EXPECT_EQ(plan->duration, c.duration) << c.what;
  }
}

TEST(CutPlan, HolesAndEmptyRangesAre406) {
  StoredSegment a = segment(0, 2 * kS), b = segment(4 * kS, 2 * kS);
  CutRange range{kBase, kBase + 6 * kS};
  std::vector<SegmentOrHole> with_hole = {borrowed(a), nullptr, borrowed(b)};
  auto refused = plan_cut(with_hole, range, false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, 406);
  EXPECT_NE(refused.error().message.find("holes"), std::string::npos);
  auto allowed = plan_cut(with_hole, range, true);
  ASSERT_TRUE(allowed);
  EXPECT_TRUE(allowed->has_holes);
  EXPECT_EQ(allowed->pieces.size(), 2u);
  EXPECT_EQ(allowed->duration, 4 * kS);
  auto empty = plan_cut({nullptr}, range, true);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, 406);
  EXPECT_NE(empty.error().message.find("no content"), std::string::npos);

  CutPlan total = *allowed;
  append_plan(total, *plan_cut({borrowed(a)}, {kBase, kBase + kS}, false));
  EXPECT_EQ(total.pieces.size(), 3u);
  EXPECT_EQ(total.duration, 5 * kS);
}

// ffmpeg command lines, as one would type them.
// clang-format off
TEST(CutPlan, FfmpegCommandLines) {
  EXPECT_EQ(ffmpeg_seconds(1'500'000), "1.500000");
  EXPECT_EQ(ffmpeg_seconds(0), "0.000000");
  EXPECT_EQ(ffmpeg_seconds(12 * kS + 7), "12.000007");
  // A head (and a piece trimmed at both ends): from the file's own start time, put
  // back where it was, B-frames as the source has them; audio and data copied.
  EXPECT_EQ(trim_segment_argv("pipe:0", {"h264", "", ""}, 1'400'000, 500'000, 1'500'000),
            (std::vector<std::string>{"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-copyts", "-i",
                                      "pipe:0", "-map", "0:0", "-codec:0", "h264", "-map", "0:1", "-codec:1", "copy",
                                      "-map", "0:2", "-codec:2", "copy", "-preset", "veryfast", "-threads", "1",
                                      "-x264-params", "rc-lookahead=0", "-enc_time_base:v", "1/90000", "-ss",
                                      "1.900000", "-output_ts_offset",
                                      "1.900000", "-t", "1.000000", "-muxdelay", "0", "-muxpreload", "0", "-f",
                                      "mpegts", "-"}));
  // A tail: to a time of the file's timeline, without B-frames.
  EXPECT_EQ(trim_segment_argv("pipe:0", {"h264"}, 9'400'000, std::nullopt, 2 * kS),
            (std::vector<std::string>{"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-copyts", "-i",
                                      "pipe:0", "-map", "0:0", "-codec:0", "h264", "-preset", "veryfast", "-threads",
                                      "1", "-x264-params", "rc-lookahead=0", "-enc_time_base:v", "1/90000", "-bf",
                                      "0", "-to", "11.400000",
                                      "-muxdelay", "0", "-muxpreload", "0", "-f", "mpegts", "-"}));
  auto mp4 = full_cut_argv(CutType::Mp4, {{1'250'000, 10 * kS}}, true, true);
  EXPECT_EQ(std::vector<std::string>(mp4.begin(), mp4.begin() + 10),
            (std::vector<std::string>{"ffmpeg", "-hide_banner", "-loglevel", "error", "-i", "-", "-ss", "1.250000",
                                      "-t", "10.000000"}));
  EXPECT_EQ(mp4.back(), "-");
  EXPECT_NE(std::find(mp4.begin(), mp4.end(), "frag_keyframe+empty_moov+default_base_moof"), mp4.end());
  auto ts = full_cut_argv(CutType::Mpegts, {{0, kS}}, true, true);
  EXPECT_EQ(*(ts.end() - 2), "mpegts");
}

TEST(CutPlan, FullCutsOfSeveralRangesFeedAPipeEachAndConcatenate) {
  auto argv = full_cut_argv(CutType::Mpegts, {{500'000, 2 * kS}, {0, kS}, {250'000, kS}}, true, true);
  std::vector<std::string> inputs(argv.begin() + 4, argv.begin() + 22);
  EXPECT_EQ(inputs, (std::vector<std::string>{"-ss", "0.500000", "-t", "2.000000", "-i", "pipe:0",
                                              "-ss", "0.000000", "-t", "1.000000", "-i", "pipe:3",
                                              "-ss", "0.250000", "-t", "1.000000", "-i", "pipe:4"}));
  EXPECT_EQ(argv[22], "-filter_complex");
  EXPECT_EQ(argv[23], "[0:v:0][0:a:0][1:v:0][1:a:0][2:v:0][2:a:0]concat=n=3:v=1:a=1[v][a]");
  EXPECT_EQ(std::vector<std::string>(argv.begin() + 24, argv.begin() + 28),
            (std::vector<std::string>{"-map", "[v]", "-map", "[a]"}));
  auto audio_only = full_cut_argv(CutType::Mp4, {{0, kS}, {0, kS}}, false, true);
  EXPECT_NE(std::find(audio_only.begin(), audio_only.end(), "[0:a:0][1:a:0]concat=n=2:v=0:a=1[a]"), audio_only.end());
  EXPECT_EQ(std::find(audio_only.begin(), audio_only.end(), "[v]"), audio_only.end());
}
// clang-format on

}  // namespace cut_plan_test
}  // namespace wubd::core
