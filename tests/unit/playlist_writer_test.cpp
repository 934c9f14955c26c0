#include "wubd/core/playlist_writer.h"
#include "segment_refs.h"
#include "wubd/core/hour_files.h"
#include "wubd/core/url.h"

#include <gtest/gtest.h>

namespace wubd::core {
namespace playlist_writer_test {

StoredSegment make(const char* time, Micros duration_us) {
  StoredSegment s;
  s.name.start = *parse_time(time);
  s.name.duration = duration_us;
  s.name.hash = "AAAA";
  s.hour = kept(format_hour(s.name.start));
  s.file_name = kept(format_segment_name(s.name));
  return s;
}

TEST(MediaPlaylist, SegmentsWithDateTimeDurationAndEscapedUrl) {
  StoredSegment a = make("2026-11-21T04:59:58.5Z", 2'000'000);
  StoredSegment b = make("2026-11-21T05:00:00.5Z", 2'002'000);
  std::string text = write_media_playlist({borrowed(a), borrowed(b)}, "/segments/desertbus/source/");
  EXPECT_EQ(text,
            "#EXTM3U\n"
            "#EXT-X-VERSION:3\n"
            "#EXT-X-TARGETDURATION:2\n"
            "#EXT-X-PROGRAM-DATE-TIME:2026-11-21T04:59:58.500Z\n"
            "#EXTINF:2.000,\n"
            "/segments/desertbus/source/2026-11-21T04/59%3A58.500000-2.0-full-AAAA.ts\n"
            "#EXT-X-PROGRAM-DATE-TIME:2026-11-21T05:00:00.500Z\n"
            "#EXTINF:2.002,\n"
            "/segments/desertbus/source/2026-11-21T05/00%3A00.500000-2.002-full-AAAA.ts\n"
            "#EXT-X-ENDLIST\n");
}

TEST(MediaPlaylist, DatesAcrossDaysMonthsAndYearsWithMillisecondsTruncated) {
  // Each hour's date is formatted once and the rest from the time into the hour: the
  // lines must read as a full date formatting would, whatever boundary they cross.
  const char* times[] = {"2026-12-31T23:59:59.999999Z", "2027-01-01T00:00:00Z", "2024-02-29T12:34:56.789012Z",
                         "2026-11-21T04:00:00.000999Z", "2026-11-21T04:07:05.1Z"};
  const char* shown[] = {"2026-12-31T23:59:59.999Z", "2027-01-01T00:00:00.000Z", "2024-02-29T12:34:56.789Z",
                         "2026-11-21T04:00:00.000Z", "2026-11-21T04:07:05.100Z"};
  std::vector<StoredSegment> segments;
  for (const char* time : times) segments.push_back(make(time, 1'999'500));
  std::vector<SegmentOrHole> items;
  for (const StoredSegment& s : segments) items.push_back(borrowed(s));
  std::string text = write_media_playlist(items, "/segments/s/v/");
  std::size_t at = 0;
  for (std::size_t i = 0; i < std::size(shown); ++i) {
    std::string line = std::string("#EXT-X-PROGRAM-DATE-TIME:") + shown[i] + "\n#EXTINF:2.000,\n/segments/s/v/" +
                       std::string(segments[i].hour) + "/";
    at = text.find(line, at);
    EXPECT_NE(at, std::string::npos) << shown[i] << " in\n" << text;
  }
}

TEST(MediaPlaylist, HolesAndEndList) {
  StoredSegment a = make("2026-11-21T04:00:00Z", 2'000'000);
  StoredSegment b = make("2026-11-21T04:00:10Z", 2'000'000);
  struct Case {
    const char* rule;
    std::vector<SegmentOrHole> items;
    int discontinuities;
    bool endlist;
    int segments;
  };
  const Case cases[] = {
      {"complete range: ENDLIST", {borrowed(a), borrowed(b)}, 0, true, 2},
      {"hole between: one DISCONTINUITY", {borrowed(a), nullptr, borrowed(b)}, 1, true, 2},
      {"leading hole dropped", {nullptr, borrowed(a), borrowed(b)}, 0, true, 2},
      {"trailing hole: no ENDLIST, no DISCONTINUITY", {borrowed(a), borrowed(b), nullptr}, 0, false, 2},
      {"only a hole: empty, no ENDLIST", {nullptr}, 0, false, 0},
      {"nothing at all", {}, 0, false, 0},
      {"holes everywhere", {nullptr, borrowed(a), nullptr, borrowed(b), nullptr}, 1, false, 2},
  };
  for (const Case& c : cases) {
    std::string text = write_media_playlist(c.items, "/segments/s/v/");
    auto count = [&](const std::string& needle) {
      int n = 0;
      for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
      return n;
    };
    EXPECT_EQ(count("#EXT-X-DISCONTINUITY\n"), c.discontinuities) << c.rule;
    EXPECT_EQ(count("#EXT-X-ENDLIST\n"), c.endlist ? 1 : 0) << c.rule;
    EXPECT_EQ(count("#EXTINF:"), c.segments) << c.rule;
    EXPECT_EQ(text.rfind("#EXTM3U\n", 0), 0u) << c.rule;
    if (c.discontinuities) {
      // The marker sits between the two segments, right before the second's date-time.
      EXPECT_NE(text.find("#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2026-11-21T04:00:10.000Z"), std::string::npos)
          << c.rule;
    }
  }
}

TEST(MediaPlaylist, TargetDurationIsAnIntegerNoEXTINFExceedsWhenRounded) {
  struct Case {
    std::vector<Micros> durations;
    std::int64_t expected;
  };
  const Case cases[] = {
      {{2'000'000}, 2}, {{2'002'000}, 2}, {{2'500'000}, 3}, {{2'499'999}, 2}, {{6'000'000, 1'000'000}, 6},
      {{100'000}, 1},   {{}, 1},
  };
  for (const Case& c : cases) {
    std::vector<StoredSegment> storage;
    for (Micros d : c.durations) storage.push_back(make("2026-11-21T04:00:00Z", d));
    std::vector<SegmentOrHole> items;
    for (const auto& s : storage) items.push_back(borrowed(s));
    EXPECT_EQ(target_duration_seconds(items), c.expected);
    std::string text = write_media_playlist(items, "/x/");
    EXPECT_NE(text.find("#EXT-X-TARGETDURATION:" + std::to_string(c.expected) + "\n"), std::string::npos);
  }
}

TEST(MediaPlaylist, EscapesEveryUrlPart) {
  StoredSegment a = make("2026-11-21T04:00:00Z", 2'000'000);
  a.file_name = "00:00.000000-2.0-full-A B#?.ts";
  std::string text = write_media_playlist({borrowed(a)}, "/segments/my%20stream/source/");
  EXPECT_NE(text.find("/segments/my%20stream/source/2026-11-21T04/00%3A00.000000-2.0-full-A%20B%23%3F.ts\n"),
            std::string::npos)
      << text;
}

MasterVariant variant(std::string name, std::string uri, std::int64_t bandwidth) {
  MasterVariant v;
  v.name = std::move(name);
  v.uri = std::move(uri);
  v.bandwidth_bps = bandwidth;
  return v;
}

TEST(MasterPlaylist, OneRenditionAndStreamInfPerVariant) {
  MasterVariant source = variant("source", "/playlist/s/source.m3u8?start=a", 6'000'000);
  source.width = 1920;
  source.height = 1080;
  source.codecs = "avc1.64002a,mp4a.40.2";
  source.frame_rate = 59.94;
  std::string text = write_master_playlist({source, variant("480p", "/playlist/s/480p.m3u8", 0)});
  EXPECT_EQ(text,
            "#EXTM3U\n"
            "#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"source\",NAME=\"source\",AUTOSELECT=YES,DEFAULT=YES\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=6000000,RESOLUTION=1920x1080,CODECS=\"avc1.64002a,mp4a.40.2\","
            "FRAME-RATE=59.940,VIDEO=\"source\",NAME=\"source\"\n"
            "/playlist/s/source.m3u8?start=a\n"
            "#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"480p\",NAME=\"480p\",AUTOSELECT=YES,DEFAULT=YES\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=1,VIDEO=\"480p\",NAME=\"480p\"\n"
            "/playlist/s/480p.m3u8\n");
  EXPECT_EQ(write_master_playlist({}), "#EXTM3U\n");
  EXPECT_NE(write_master_playlist({variant("a\"b", "/u", 1)}).find("NAME=\"a'b\""), std::string::npos);
}

}  // namespace playlist_writer_test
}  // namespace wubd::core

namespace wubd::core {
namespace playlist_writer_test {

TEST(MediaPlaylist, ListedNamesAreEscapedAsAnyNameIs) {
  // Names a listing parsed take a shorter way through the writer: the same URLs.
  std::vector<std::string> names = {"00:00.000000-2.0-full-AAAA.ts", "00:02.5-2.002-suspect-A-_B.ts",
                                    "00:05-2.0-partial-AAAA.ts"};
  std::vector<std::pair<std::string, std::string>> rejected;
  auto listing = make_hour_listing(
      "2026-11-21T04", *parse_hour("2026-11-21T04"), std::make_shared<const std::string>(join_names(names)),
      [](std::string_view) { return std::int64_t(1); }, rejected);
  ASSERT_TRUE(rejected.empty());
  std::vector<SegmentOrHole> items;
  for (const StoredSegment* s : listing->best) items.push_back(segment_ref(listing, s));
  std::string text = write_media_playlist(items, "/segments/s/v/");
  for (const std::string& name : names) {
    EXPECT_NE(text.find("/segments/s/v/2026-11-21T04/" + percent_encode(name) + "\n"), std::string::npos)
        << name << " in\n"
        << text;
  }
  EXPECT_NE(text.find("/00%3A02.5-2.002-suspect-A-_B.ts\n"), std::string::npos);
}

}  // namespace playlist_writer_test
}  // namespace wubd::core
