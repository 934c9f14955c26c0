// The media library on small fixture files made with ffmpeg (tests/media/fixtures):
// two seconds of 160x90 H.264 (keyframes every 30 frames, B-frames) and AAC, as
// MPEG-TS and as fragmented MP4.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "wubd/io/beneath.h"
#include "wubd/media/audio_envelope.h"
#include "wubd/media/frame_grab.h"
#include "wubd/media/images.h"
#include "wubd/media/media_input.h"
#include "wubd/media/media_probe.h"
#include "wubd/media/run_encoder.h"
#include "wubd/media/ts_splicer.h"

namespace wubd::media {
namespace {

constexpr std::int64_t kFrameTicks = 3000;  // 30 fps at 90 kHz

class MediaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fixtures_ = ::open(WUBD_MEDIA_FIXTURES, O_PATH | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(fixtures_, 0) << WUBD_MEDIA_FIXTURES;
  }
  void TearDown() override { ::close(fixtures_); }

  io::BeneathPath fixture(const std::string& name) const {
    return {fixtures_, name, std::string(WUBD_MEDIA_FIXTURES) + "/" + name};
  }

  int fixtures_ = -1;
};

TEST_F(MediaTest, ProbeNamesTheCodecsAndTheStart) {
  auto streams = probe_stream_codecs(fixture("two_seconds.ts"));
  ASSERT_TRUE(streams) << streams.error().message;
  ASSERT_EQ(streams->codecs.size(), 2u);
  EXPECT_EQ(streams->codecs[0], "h264");
  EXPECT_EQ(streams->codecs[1], "");  // audio is copied as it is
  EXPECT_TRUE(streams->has_video);
  EXPECT_TRUE(streams->has_audio);
  EXPECT_EQ(streams->start_time, 1'445'333);  // the audio's first packet, as ffmpeg's -ss counts
}

TEST_F(MediaTest, FramesComeInPresentationOrderWithTheirKeyframes) {
  auto frames = read_segment_frames(fixture("two_seconds.ts"));
  ASSERT_TRUE(frames) << frames.error().message;
  ASSERT_EQ(frames->video.size(), 60u);
  EXPECT_EQ(frames->video.front().pts, 132'000);
  EXPECT_LT(frames->start_pts, frames->video.front().pts) << "the audio leads the video";
  int keys = 0;
  for (std::size_t i = 0; i < frames->video.size(); ++i) {
    const core::VideoFrame& f = frames->video[i];
    if (i > 0) {
      EXPECT_EQ(f.pts - frames->video[i - 1].pts, kFrameTicks) << "frame " << i;
    }
    EXPECT_LE(f.dts, f.pts) << "frame " << i;
    keys += f.key;
    EXPECT_EQ(f.key, i % 30 == 0) << "frame " << i;
  }
  EXPECT_EQ(keys, 2);
}

TEST_F(MediaTest, ErrorsNameTheFileAndSymlinksAreRefused) {
  auto missing = MediaInput::open(fixture("no-such.ts"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("no-such.ts"), std::string::npos) << missing.error().message;

  std::string link = std::string(WUBD_MEDIA_FIXTURES) + "/../link-" + std::to_string(::getpid()) + ".ts";
  std::filesystem::create_symlink(std::string(WUBD_MEDIA_FIXTURES) + "/two_seconds.ts", link);
  int parent = ::open((std::string(WUBD_MEDIA_FIXTURES) + "/..").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  std::string name = std::filesystem::path(link).filename();
  auto through_link = MediaInput::open({parent, name, link});
  std::filesystem::remove(link);
  ::close(parent);
  ASSERT_FALSE(through_link);
  EXPECT_NE(through_link.error().message.find("symbolic link"), std::string::npos) << through_link.error().message;

  // What an origin serves when it is having a bad day, stored under a segment's name.
  auto not_media = probe_stream_codecs(fixture("not_media.ts"));
  ASSERT_FALSE(not_media);
  EXPECT_NE(not_media.error().message.find("not_media.ts"), std::string::npos) << not_media.error().message;
}

TEST_F(MediaTest, FragmentedMp4IsRecognisedAndRemuxedToMpegTs) {
  EXPECT_TRUE(is_fragmented_mp4(fixture("two_seconds.mp4")));
  EXPECT_FALSE(is_fragmented_mp4(fixture("two_seconds.ts")));
  auto ts = remux_to_mpegts(fixture("two_seconds.mp4"));
  ASSERT_TRUE(ts) << ts.error().message;
  ASSERT_GE(ts->size(), 188u * 10);
  EXPECT_EQ(ts->size() % 188, 0u);
  for (std::size_t i = 0; i < ts->size(); i += 188) ASSERT_EQ((*ts)[i], 0x47) << "sync byte at " << i;
}

TEST_F(MediaTest, TheEncoderReencodesARunFromAGivenFrame) {
  auto frames = read_segment_frames(fixture("two_seconds.ts"));
  ASSERT_TRUE(frames);
  std::int64_t from = frames->video[5].pts;  // inside the first group: not a keyframe
  RunEncoder encoder({fixture("two_seconds.ts")}, from, 10, kFrameTicks);
  std::vector<EncodedFrame> out;
  for (int calls = 0; !encoder.done() && calls < 50; ++calls) {
    auto more = encoder.encode_more(4, std::chrono::milliseconds(500), out);
    ASSERT_TRUE(more) << more.error().message;
  }
  ASSERT_TRUE(encoder.done());
  ASSERT_EQ(out.size(), 10u);
  EXPECT_TRUE(out.front().key) << "a run starts on a keyframe of its own";
  EXPECT_EQ(out.front().pts, from);
  for (std::size_t i = 1; i < out.size(); ++i) {
    EXPECT_EQ(out[i].pts - out[i - 1].pts, kFrameTicks) << "frame " << i;
  }
}

TEST_F(MediaTest, TheSplicerWritesOneStreamStartingAtZero) {
  TsSplicer splicer;
  ASSERT_TRUE(splicer.open(fixture("two_seconds.ts")));
  splicer.begin_range(0, kFrameTicks);
  TsSplicer::Segment whole;
  whole.path = fixture("two_seconds.ts");
  ASSERT_TRUE(splicer.add_segment(whole));
  ASSERT_TRUE(splicer.finish());
  std::string out = splicer.take_output();
  ASSERT_GE(out.size(), 188u * 50);
  EXPECT_EQ(out.size() % 188, 0u);
  EXPECT_EQ(splicer.repaired_packets(), 0);
  // Read back: the same 60 frames, the first at 0 (plus the muxer's own delay).
  char path[] = "/tmp/wubd-splice-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, out.data(), out.size()), ssize_t(out.size()));
  ::close(fd);
  int tmp = ::open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
  auto frames = read_segment_frames({tmp, std::filesystem::path(path).filename(), path});
  ::close(tmp);
  std::remove(path);
  ASSERT_TRUE(frames) << frames.error().message;
  EXPECT_EQ(frames->video.size(), 60u);
  EXPECT_LT(frames->video.front().pts, 90'000 / 2) << "rebased to the start";
}

TEST_F(MediaTest, TheAudioEnvelopeHearsEverySliceOfASegment) {
  // 2 s in 80 slices of 25 ms: every slice holds part of an AAC frame (23 ms).
  core::Micros start = *core::parse_time("2026-11-21T04:00:00Z");
  core::Envelope envelope(80);
  auto added =
      add_audio_envelope({{fixture("two_seconds.ts"), start}}, start, start + 2 * core::kMicrosPerSecond, 1, envelope);
  ASSERT_TRUE(added) << added.error().message;
  int seen = 0;
  for (int c = 0; c < 80; ++c) seen += envelope.seen[std::size_t(c)];
  EXPECT_GE(seen, 78);  // the first and last may fall outside the audio
  // One frame in four still reaches most slices at this width.
  core::Envelope sparse(20);
  ASSERT_TRUE(
      add_audio_envelope({{fixture("two_seconds.ts"), start}}, start, start + 2 * core::kMicrosPerSecond, 4, sparse));
  seen = 0;
  for (int c = 0; c < 20; ++c) seen += sparse.seen[std::size_t(c)];
  EXPECT_GE(seen, 18);
}

TEST_F(MediaTest, AFrameIsDecodedAndEncodedAsPngAndJpeg) {
  auto picture = frame_at(fixture("two_seconds.ts"), core::kMicrosPerSecond);
  ASSERT_TRUE(picture) << picture.error().message;
  EXPECT_EQ(picture->width, 160);
  EXPECT_EQ(picture->height, 90);
  auto png = encode_image(*picture, ImageFormat::Png);
  ASSERT_TRUE(png) << png.error().message;
  auto back = decode_png(*png);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->rgba, picture->rgba);  // lossless
  auto jpeg = encode_image(*picture, ImageFormat::Jpeg);
  ASSERT_TRUE(jpeg);
  EXPECT_EQ(jpeg->substr(0, 2), "\xff\xd8");
  EXPECT_EQ(frame_at(fixture("two_seconds.ts"), 5 * core::kMicrosPerSecond).error().code, 406);
  EXPECT_EQ(decode_png("GIF89a...").error().code, 400);
}

}  // namespace
}  // namespace wubd::media
