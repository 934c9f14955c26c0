#include "wubd/core/smart_cut_plan.h"
#include "segment_refs.h"

#include <gtest/gtest.h>

namespace wubd::core {
namespace smart_cut_plan_test {

constexpr Micros kS = kMicrosPerSecond;
const Micros kBase = *parse_time("2026-11-21T04:00:00Z");
constexpr std::int64_t kFrameTicks = 3000;  // 30 fps
constexpr std::int64_t kStartPts = 126000;  // 1.4 s, as ffmpeg's TS files start

// 2 s segments of 60 frames at 30 fps, the segment index's frames continuing the
// stream's timestamps; keyframes every `gop` frames; B-frames delay dts by 2 frames.
struct Stream {
  int gop = 60;
  std::vector<StoredSegment> segments;
  std::vector<SegmentFrames> frames;

  explicit Stream(int count, int gop_frames = 60) : gop(gop_frames) {
    for (int s = 0; s < count; ++s) {
      StoredSegment segment;
      segment.name.start = kBase + s * 2 * kS;
      segment.name.duration = 2 * kS;
      segments.push_back(segment);
      SegmentFrames sf;
      sf.start_pts = kStartPts + s * 60 * kFrameTicks;
      for (int f = 0; f < 60; ++f) {
        int n = s * 60 + f;  // the frame's number in the stream
        std::int64_t pts = kStartPts + n * kFrameTicks;
        sf.video.push_back({pts, pts - 2 * kFrameTicks, n % gop == 0});
      }
      frames.push_back(sf);
    }
  }

  // Micros of frame n's wall time.
  static Micros at(int n) { return kBase + ticks_to_micros(std::int64_t(n) * kFrameTicks); }

  std::vector<CutPiece> pieces(const CutRange& range) const {
    std::vector<CutPiece> out;
    for (const StoredSegment& s : segments) {
      if (s.name.end() <= range.start || s.name.start >= range.end) continue;
      CutPiece piece;
      piece.segment = borrowed(s);
      out.push_back(piece);
    }
    return out;
  }

  std::vector<std::optional<SegmentFrames>> known(const CutRange& range) const {
    std::vector<std::optional<SegmentFrames>> out;
    for (const StoredSegment& s : segments) {
      if (s.name.end() <= range.start || s.name.start >= range.end) continue;
      out.push_back(frames[std::size_t((s.name.start - kBase) / (2 * kS))]);
    }
    return out;
  }
};

SmartRangePlan plan_all_known(const Stream& stream, const CutRange& range) {
  auto result = plan_smart_range(stream.pieces(range), range, stream.known(range));
  EXPECT_TRUE(std::holds_alternative<SmartRangePlan>(result));
  return std::get<SmartRangePlan>(result);
}

TEST(SmartCutPlan, TicksAndMicrosRoundDown) {
  EXPECT_EQ(micros_to_ticks(kS), 90000);
  EXPECT_EQ(ticks_to_micros(90000), kS);
  EXPECT_EQ(ticks_to_micros(3000), 33333);
  EXPECT_EQ(micros_to_ticks(33333), 2999);
  EXPECT_EQ(ticks_to_micros(-1), -12);
  EXPECT_EQ(micros_to_ticks(-1), -1);
}

TEST(SmartCutPlan, MidGroupStartAndEndReencodeOnlyTheirGroups) {
  Stream stream(5);
  // Frames 75..194: starts 15 frames into segment 1, ends 15 frames into segment 3.
  CutRange range{Stream::at(75), Stream::at(195)};
  SmartRangePlan plan = plan_all_known(stream, range);
  ASSERT_TRUE(plan.head);
  EXPECT_EQ(plan.head->first_piece, 0u);  // piece 0 is segment 1
  EXPECT_EQ(plan.head->last_piece, 0u);
  EXPECT_EQ(plan.head->frames, 45);  // 75..119
  EXPECT_EQ(plan.head->origin_pts, kStartPts + 75 * kFrameTicks);
  EXPECT_EQ(plan.head->delay, 2 * kFrameTicks);
  EXPECT_EQ(plan.copy_from, Stream::at(120));
  ASSERT_TRUE(plan.tail);
  EXPECT_EQ(plan.tail->first_piece, 2u);
  EXPECT_EQ(plan.tail->frames, 15);  // 180..194
  EXPECT_EQ(plan.tail->origin_pts, kStartPts + 180 * kFrameTicks);
  EXPECT_EQ(plan.copy_to, Stream::at(180));
  EXPECT_EQ(plan.audio_from, Stream::at(75));
  EXPECT_EQ(plan.audio_to, range.end);
  EXPECT_EQ(plan.origin_pts, kStartPts + 75 * kFrameTicks);
  EXPECT_EQ(plan.delay, 2 * kFrameTicks);
  EXPECT_EQ(plan.video_frames, 120);
}

TEST(SmartCutPlan, KeyframeAlignedEndsCopyEverything) {
  Stream stream(4);
  CutRange range{Stream::at(60), Stream::at(180)};
  SmartRangePlan plan = plan_all_known(stream, range);
  EXPECT_FALSE(plan.head);
  EXPECT_FALSE(plan.tail);  // the group before the end is whole
  EXPECT_EQ(plan.copy_from, Stream::at(60));
  EXPECT_EQ(plan.copy_to, range.end);
  EXPECT_EQ(plan.video_frames, 120);
}

TEST(SmartCutPlan, AStartBetweenFramesBeginsAtTheNextFrame) {
  Stream stream(3);
  CutRange range{Stream::at(70) + 10'000, Stream::at(120)};
  SmartRangePlan plan = plan_all_known(stream, range);
  ASSERT_TRUE(plan.head);
  EXPECT_EQ(plan.head->frames, 49);  // 71..119
  EXPECT_EQ(plan.origin_pts, kStartPts + 71 * kFrameTicks);
  EXPECT_EQ(plan.audio_from, Stream::at(71));
  EXPECT_FALSE(plan.tail);
}

TEST(SmartCutPlan, TheSegmentAfterTheEndOnlyTellsWhereGroupsStart) {
  // The restreamer adds the segment after the range for its audio; its frames are
  // past the end and never taken, but they show whether the end cuts a group.
  Stream stream(4);
  CutRange range{Stream::at(60), Stream::at(120)};
  std::vector<CutPiece> pieces;
  std::vector<std::optional<SegmentFrames>> known;
  for (int s : {1, 2}) {
    CutPiece piece;
    piece.segment = borrowed(stream.segments[std::size_t(s)]);
    pieces.push_back(piece);
    known.push_back(stream.frames[std::size_t(s)]);
  }
  auto result = plan_smart_range(pieces, range, known);
  ASSERT_TRUE(std::holds_alternative<SmartRangePlan>(result));
  const auto& plan = std::get<SmartRangePlan>(result);
  EXPECT_FALSE(plan.tail);  // segment 2 starts with a keyframe: the last group is whole
  EXPECT_EQ(plan.copy_to, range.end);
  EXPECT_EQ(plan.video_frames, 60);

  Stream long_groups(4, 90);  // keyframes at 0, 90, 180: segment 2 continues 90's group
  for (int s : {1, 2}) {
    pieces[std::size_t(s - 1)].segment = borrowed(long_groups.segments[std::size_t(s)]);
    known[std::size_t(s - 1)] = long_groups.frames[std::size_t(s)];
  }
  auto cut_group = std::get<SmartRangePlan>(plan_smart_range(pieces, range, known));
  ASSERT_TRUE(cut_group.head);
  EXPECT_EQ(cut_group.head->frames, 30);  // 60..89
  ASSERT_TRUE(cut_group.tail);            // 90..119: its group runs on into segment 2
  EXPECT_EQ(cut_group.tail->frames, 30);
  EXPECT_EQ(cut_group.copy_from, cut_group.copy_to);
}

TEST(SmartCutPlan, ShortGroupsWithinASegmentReencodeLess) {
  Stream stream(3, 15);  // a keyframe every half second
  CutRange range{Stream::at(62), Stream::at(100)};
  SmartRangePlan plan = plan_all_known(stream, range);
  ASSERT_TRUE(plan.head);
  EXPECT_EQ(plan.head->frames, 13);  // 62..74
  EXPECT_EQ(plan.copy_from, Stream::at(75));
  ASSERT_TRUE(plan.tail);
  EXPECT_EQ(plan.tail->frames, 10);  // 90..99
  EXPECT_EQ(plan.tail->origin_pts, kStartPts + 90 * kFrameTicks);
  EXPECT_EQ(plan.copy_to, Stream::at(90));
}

TEST(SmartCutPlan, NoKeyframeInTheRangeReencodesItAllInOneRun) {
  Stream stream(3);
  CutRange range{Stream::at(65), Stream::at(110)};
  SmartRangePlan plan = plan_all_known(stream, range);
  ASSERT_TRUE(plan.head);
  EXPECT_EQ(plan.head->frames, 45);
  EXPECT_EQ(plan.head->delay, 0);
  EXPECT_FALSE(plan.tail);
  EXPECT_EQ(plan.copy_from, plan.copy_to);  // nothing copied
}

TEST(SmartCutPlan, AGroupSpanningSegmentsIsEncodedFromBothFiles) {
  Stream stream(4, 120);  // keyframes every other segment: 0, 120
  CutRange range{Stream::at(30), Stream::at(150)};
  SmartRangePlan plan = plan_all_known(stream, range);
  ASSERT_TRUE(plan.head);
  EXPECT_EQ(plan.head->first_piece, 0u);
  EXPECT_EQ(plan.head->last_piece, 1u);
  EXPECT_EQ(plan.head->frames, 90);  // 30..119
  ASSERT_TRUE(plan.tail);
  EXPECT_EQ(plan.tail->first_piece, 2u);
  EXPECT_EQ(plan.tail->frames, 30);
}

TEST(SmartCutPlan, AsksForTheFramesItNeedsOnly) {
  Stream stream(10);
  CutRange range{Stream::at(75), Stream::at(555)};  // segments 1..9
  auto pieces = stream.pieces(range);
  ASSERT_EQ(pieces.size(), 9u);
  std::vector<std::optional<SegmentFrames>> known(pieces.size());
  auto first = plan_smart_range(pieces, range, known);
  ASSERT_TRUE(std::holds_alternative<NeedFrames>(first));
  EXPECT_EQ(std::get<NeedFrames>(first).piece, 0u);
  known[0] = stream.frames[1];
  auto second = plan_smart_range(pieces, range, known);
  ASSERT_TRUE(std::holds_alternative<NeedFrames>(second));
  EXPECT_EQ(std::get<NeedFrames>(second).piece, 1u);  // the next keyframe is segment 2's first frame
  known[1] = stream.frames[2];
  auto third = plan_smart_range(pieces, range, known);
  ASSERT_TRUE(std::holds_alternative<NeedFrames>(third));
  EXPECT_EQ(std::get<NeedFrames>(third).piece, 8u);
  known[8] = stream.frames[9];
  auto done = plan_smart_range(pieces, range, known);
  ASSERT_TRUE(std::holds_alternative<SmartRangePlan>(done));
  const auto& plan = std::get<SmartRangePlan>(done);
  EXPECT_EQ(plan.video_frames, -1);  // the middle was never read
  ASSERT_TRUE(plan.tail);
  EXPECT_EQ(plan.tail->frames, 15);
}

TEST(SmartCutPlan, AudioOnlyCopiesTheRange) {
  StoredSegment segment;
  segment.name.start = kBase;
  segment.name.duration = 2 * kS;
  CutPiece piece;
  piece.segment = borrowed(segment);
  SegmentFrames audio_only;
  audio_only.start_pts = kStartPts;
  CutRange range{kBase + kS / 2, kBase + kS};
  auto result = plan_smart_range({piece}, range, {audio_only});
  ASSERT_TRUE(std::holds_alternative<SmartRangePlan>(result));
  const auto& plan = std::get<SmartRangePlan>(result);
  EXPECT_FALSE(plan.head);
  EXPECT_FALSE(plan.tail);
  EXPECT_EQ(plan.audio_from, range.start);
  EXPECT_EQ(plan.origin_pts, kStartPts + 45000);
}

TEST(SmartCutPlan, WallTimeCountsFromTheFirstVideoFrame) {
  SegmentFrames frames;
  frames.start_pts = 100;  // audio leads
  frames.video = {{400, 100, true}, {700, 400, false}};
  EXPECT_EQ(reference_pts(frames), 400);
  frames.video.clear();
  EXPECT_EQ(reference_pts(frames), 100);
}

}  // namespace smart_cut_plan_test
}  // namespace wubd::core
