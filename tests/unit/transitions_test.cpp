#include "wubd/core/transitions.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "segment_refs.h"
#include "wubd/core/cut_plan.h"

namespace wubd::core {
namespace transitions_test {

constexpr Micros kS = kMicrosPerSecond;
const Micros kBase = *parse_time("2026-11-21T04:00:00Z");
const RangeCap kCap{6 * 3600 * kS, "--max-cut-hours"};

TEST(Transitions, ParsedFromWubloadersSpelling) {
  EXPECT_FALSE(*parse_transition(""));  // a hard cut
  auto fade = parse_transition("fade,0.5");
  ASSERT_TRUE(fade && *fade);
  EXPECT_EQ((*fade)->type, "fade");
  EXPECT_EQ((*fade)->duration, 500'000);
  EXPECT_EQ((**parse_transition("clockwipe,2")).type, "clockwipe");
  struct Bad {
    const char* text;
    const char* words;
  } bad[] = {
      {"fade", "expected TYPE,DURATION"},     {"sparkle,1", "Unknown transition \"sparkle\"; known: fade, fadeblack"},
      {"revealup,1", "needs ffmpeg 7"},       {"fade,0", "Bad transition duration \"0\""},
      {"fade,-2", "Bad transition duration"}, {"fade,x", "Bad transition duration"},
      {"fade,7200", "at most 3600"}};
  for (const Bad& b : bad) {
    auto result = parse_transition(b.text);
    ASSERT_FALSE(result) << b.text;
    EXPECT_EQ(result.error().code, 400);
    EXPECT_NE(result.error().message.find(b.words), std::string::npos) << result.error().message;
  }
  // Every name ffmpeg's xfade takes or wubd draws, and wubloader's custom four among them.
  const auto& names = transition_names();
  for (const char* name : {"fade", "wipeleft", "zoomin", "clockwipe", "starwipe", "batman", "diamondwipe", "hlwind"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
}

TEST(Transitions, XfadeOptions) {
  EXPECT_EQ(xfade_options({"wipeleft", 500'000}, 12'250'000), "transition=wipeleft:duration=0.500000:offset=12.250000");
  std::string custom = xfade_options({"diamondwipe", kS}, 0);
  EXPECT_EQ(custom.rfind("transition=custom:expr='", 0), 0u) << custom;
  EXPECT_NE(custom.find("':duration=1.000000:offset=0.000000"), std::string::npos) << custom;
}

TEST(Transitions, ACutRequestTakesThemForItsJoins) {
  std::string two = "range=2026-11-21T04:00:00Z,2026-11-21T04:00:10Z&range=2026-11-21T04:01:00Z,2026-11-21T04:01:10Z";
  std::string three = two + "&range=2026-11-21T04:02:00Z,2026-11-21T04:02:10Z";
  auto padded = parse_cut_request(three + "&transition=fade,1", std::nullopt, kCap);
  ASSERT_TRUE(padded) << padded.error().message;
  ASSERT_EQ(padded->transitions.size(), 2u);
  EXPECT_EQ(padded->transitions[0]->type, "fade");
  EXPECT_FALSE(padded->transitions[1]);  // the rest are hard cuts
  EXPECT_EQ(padded->transition_out(0), kS);
  EXPECT_EQ(padded->transition_in(1), kS);
  EXPECT_EQ(padded->transition_out(1), 0);
  auto hard_then_fade = parse_cut_request(three + "&transition=&transition=fade,2", std::nullopt, kCap);
  ASSERT_TRUE(hard_then_fade);
  EXPECT_FALSE(hard_then_fade->transitions[0]);
  EXPECT_EQ(hard_then_fade->transitions[1]->duration, 2 * kS);
  EXPECT_EQ(parse_cut_request(two + "&transition=fade,1&transition=fade,1", std::nullopt, kCap).error().message,
            "Too many transitions");
  EXPECT_EQ(
      parse_cut_request("start=2026-11-21T04:00:00Z&end=2026-11-21T04:00:10Z&transition=fade,1", std::nullopt, kCap)
          .error()
          .message,
      "Too many transitions");
  auto too_short = parse_cut_request(two + "&transition=fade,10", std::nullopt, kCap);
  ASSERT_FALSE(too_short);
  EXPECT_NE(too_short.error().message.find("Range 1 (10.000000 s) is not longer than its transitions"),
            std::string::npos);
  EXPECT_EQ(parse_cut_request(two + "&type=webm", std::nullopt, kCap)->type, CutType::Webm);
  // Without a type, transitions make the cut wubloader's default type, which honours
  // them (rough, the default otherwise, ignores them); an explicit rough stays rough.
  EXPECT_EQ(parse_cut_request(two + "&transition=fade,1", std::nullopt, kCap)->type, CutType::Fast);
  EXPECT_EQ(parse_cut_request(two + "&transition=", std::nullopt, kCap)->type, CutType::Rough);
  EXPECT_EQ(parse_cut_request(two + "&transition=fade,1&type=rough", std::nullopt, kCap)->type, CutType::Rough);
  EXPECT_EQ(cut_content_type(CutType::Webm), "video/webm");
}

TEST(Transitions, AFullCutChainsXfadeAndConcatOneInputAtATime) {
  // Three inputs: 10 s, a hole's second run of 4 s (hard join), then 6 s after a 1 s fade.
  std::vector<FullCutInput> inputs = {{0, 10 * kS}, {0, 4 * kS}, {500'000, 6 * kS}};
  auto argv = full_cut_argv(CutType::Mpegts, inputs, {std::nullopt, Transition{"fade", kS}}, true, true);
  auto graph = std::find(argv.begin(), argv.end(), "-filter_complex");
  ASSERT_NE(graph, argv.end());
  const std::string& g = *(graph + 1);
  EXPECT_NE(g.find("[0:v:0]settb=AVTB,setpts=PTS-STARTPTS[v0]"), std::string::npos) << g;
  EXPECT_NE(g.find("[v0][a0][v1][a1]concat=n=2:v=1:a=1[vj1][aj1]"), std::string::npos) << g;
  // The fade starts a second before the 14 s joined so far end.
  EXPECT_NE(g.find("[vj1][v2]xfade=transition=fade:duration=1.000000:offset=13.000000[vj2]"), std::string::npos) << g;
  EXPECT_NE(g.find("[aj1][a2]acrossfade=d=1.000000[aj2]"), std::string::npos) << g;
  EXPECT_NE(std::find(argv.begin(), argv.end(), "[vj2]"), argv.end());
  // No transition at all: the one concat filter, as before.
  auto plain = full_cut_argv(CutType::Mpegts, inputs, {std::nullopt, std::nullopt}, true, true);
  EXPECT_EQ(plain, full_cut_argv(CutType::Mpegts, inputs, true, true));
  auto webm = full_cut_argv(CutType::Webm, {{0, kS}}, true, true);
  EXPECT_NE(std::find(webm.begin(), webm.end(), "libvpx-vp9"), webm.end());
  EXPECT_NE(std::find(webm.begin(), webm.end(), "libopus"), webm.end());
  EXPECT_EQ(*(webm.end() - 2), "webm");
}

TEST(Transitions, AClipIsPlannedFromTheSegmentsOnEitherSide) {
  StoredSegment a, b, c;
  for (auto [s, offset] : {std::pair{&a, 0}, std::pair{&b, 2}, std::pair{&c, 10}}) {
    s->name.start = kBase + offset * kS;
    s->name.duration = 2 * kS;
    s->name.type = SegmentType::Full;
    s->hour = "2026-11-21T04";
    s->file_name = kept("seg" + std::to_string(offset) + ".ts");
  }
  // The last 1.5 s of a range ending at 3.5 s, the first 1.5 s of one starting at 10.25 s.
  auto clip = plan_transition({borrowed(a), borrowed(b)}, {kBase + 2 * kS, kBase + 3'500'000}, {borrowed(c)},
                              {kBase + 10'250'000, kBase + 11'750'000}, {"fade", 1'500'000});
  ASSERT_TRUE(clip) << clip.error().message;
  ASSERT_EQ(clip->from.segments.size(), 1u);  // a ends where the window starts
  EXPECT_EQ(clip->from.segments[0]->name.start, kBase + 2 * kS);
  EXPECT_EQ(clip->from.offset, 0);
  EXPECT_EQ(clip->to.offset, 250'000);
  auto argv = transition_argv(*clip, "h264", true, true);
  EXPECT_EQ(std::vector<std::string>(argv.begin() + 5, argv.begin() + 17),
            (std::vector<std::string>{"-ss", "0.000000", "-t", "1.500000", "-i", "pipe:0", "-ss", "0.250000", "-t",
                                      "1.500000", "-i", "pipe:3"}));
  EXPECT_NE(std::find(argv.begin(), argv.end(), "-bf"), argv.end());
  // A hole on either side is a 406 saying where.
  auto hole = plan_transition({borrowed(a), nullptr}, {kBase + kS, kBase + 3 * kS}, {borrowed(c)},
                              {kBase + 10 * kS, kBase + 11 * kS}, {"fade", 2 * kS});
  ASSERT_FALSE(hole);
  EXPECT_EQ(hole.error().code, 406);
  EXPECT_NE(hole.error().message.find("there is a hole there"), std::string::npos);
}

}  // namespace transitions_test
}  // namespace wubd::core
