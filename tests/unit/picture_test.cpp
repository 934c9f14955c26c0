#include "wubd/core/picture.h"

#include <gtest/gtest.h>

#include "wubd/core/waveform.h"

namespace wubd::core {
namespace picture_test {

Picture filled(int w, int h, std::uint8_t r, std::uint8_t g, std::uint8_t b, std::uint8_t a) {
  Picture p(w, h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      std::uint8_t* px = p.at(x, y);
      px[0] = r, px[1] = g, px[2] = b, px[3] = a;
    }
  }
  return p;
}

TEST(Picture, BoxesAndSizesSayWhatIsWrong) {
  auto box = parse_box("10,20,110,70", "crop");
  ASSERT_TRUE(box);
  EXPECT_EQ(box->width(), 100);
  EXPECT_EQ(box->height(), 50);
  EXPECT_NE(parse_box("1,2,3", "crop").error().message.find("four comma-separated integers"), std::string::npos);
  EXPECT_NE(parse_box("1,2,3,4,5", "crop").error().message.find("four comma-separated"), std::string::npos);
  EXPECT_NE(parse_box("1,x,3,4", "location").error().message.find("\"x\" is not an integer"), std::string::npos);
  EXPECT_NE(parse_box("5,5,5,9", "crop").error().message.find("right must be greater"), std::string::npos);
  EXPECT_NE(parse_box("0,0,5000,10", "crop").error().message.find("at most 4096"), std::string::npos);
  EXPECT_EQ(parse_box("-10,-10,10,10", "crop")->left, -10);  // PIL crops past the edges
  EXPECT_EQ(*parse_image_size("1024x64"), (std::pair{1024, 64}));
  EXPECT_NE(parse_image_size("1024").error().message.find("Invalid size"), std::string::npos);
  EXPECT_NE(parse_image_size("0x64").error().message.find("between 1x1 and 4096x4096"), std::string::npos);
}

TEST(Picture, CroppingPastTheEdgesIsBlack) {
  Picture frame = filled(4, 4, 200, 100, 50, 255);
  Picture cut = crop(frame, {2, 2, 6, 6});
  EXPECT_EQ(cut.at(0, 0)[0], 200);
  EXPECT_EQ(cut.at(3, 3)[0], 0);
  EXPECT_EQ(cut.at(3, 3)[3], 255);
}

TEST(Picture, TheTemplateIsLaidOverTheFrameWithItsAlpha) {
  Picture templ = filled(10, 10, 255, 0, 0, 255);
  for (int y = 2; y < 8; ++y) {
    for (int x = 2; x < 8; ++x) templ.at(x, y)[3] = 0;  // a window
  }
  templ.at(5, 5)[3] = 128;  // half red over the frame
  Picture frame = filled(6, 6, 0, 0, 255, 255);
  Picture out = compose_thumbnail(templ, frame, {2, 2, 8, 8});
  EXPECT_EQ(std::vector<int>(out.at(0, 0), out.at(0, 0) + 4), (std::vector<int>{255, 0, 0, 255}));
  EXPECT_EQ(std::vector<int>(out.at(3, 3), out.at(3, 3) + 4), (std::vector<int>{0, 0, 255, 255}));
  EXPECT_EQ(out.at(5, 5)[0], 128);
  EXPECT_EQ(out.at(5, 5)[2], 127);
  EXPECT_EQ(out.at(5, 5)[3], 255);
  // Where the template is transparent and no frame is, nothing.
  Picture open = filled(4, 4, 0, 0, 0, 0);
  EXPECT_EQ(compose_thumbnail(open, frame, {10, 10, 16, 16}).at(1, 1)[3], 0);
}

TEST(Waveform, ColumnsSpanLowestToHighestOnASquareRootScale) {
  Envelope envelope(3);
  EXPECT_EQ(envelope_column(0, 0, 300, 3), 0);
  EXPECT_EQ(envelope_column(299, 0, 300, 3), 2);
  EXPECT_EQ(envelope_column(300, 0, 300, 3), -1);
  envelope.add(0, 0.f);  // silence: the centre line
  envelope.add(1, 1.f);
  envelope.add(1, -1.f);   // full scale both ways: the whole height
  envelope.add(2, 0.25f);  // a quarter: half of the upper half (sqrt), down to the centre
  envelope.add(2, 0.f);
  Picture picture = draw_waveform(envelope, 41);
  auto column = [&](int x) {
    int n = 0;
    for (int y = 0; y < 41; ++y) n += picture.at(x, y)[3] > 0;
    return n;
  };
  EXPECT_EQ(column(0), 1);
  EXPECT_EQ(column(1), 41);
  EXPECT_EQ(column(2), 11);  // rows 10..20
  Envelope merged(3);
  merged.merge(envelope);
  EXPECT_EQ(merged.high[1], 1.f);
  EXPECT_FALSE(Envelope(2).seen[0]);
}

}  // namespace picture_test
}  // namespace wubd::core
