#include "wubd/core/hls_playlist.h"

#include <gtest/gtest.h>

#include <map>

namespace wubd::core {
namespace hls_playlist_test {

Micros at(const char* text) { return *parse_time(text); }

TEST(HlsAttributes, QuotedCommasAndBareValues) {
  auto attributes = parse_attributes(R"(BANDWIDTH=123,CODECS="avc1.4D401F,mp4a.40.2",RESOLUTION=1280x720,X="")");
  ASSERT_TRUE(attributes) << attributes.error().message;
  ASSERT_EQ(attributes->size(), 4u);
  EXPECT_EQ(*find_attribute(*attributes, "CODECS"), "avc1.4D401F,mp4a.40.2");
  EXPECT_EQ(*find_attribute(*attributes, "RESOLUTION"), "1280x720");
  EXPECT_EQ(*find_attribute(*attributes, "X"), "");
  EXPECT_EQ(find_attribute(*attributes, "BANDWIDT"), nullptr);
}

TEST(HlsAttributes, Errors) {
  for (const char* bad : {R"(A="open)", "=1", "NOEQUALS", R"(A="x"junk)"}) {
    EXPECT_FALSE(parse_attributes(bad)) << bad;
  }
}

TEST(HlsMaster, TwitchChunkedAndRenditionNames) {
  const char* text =
      "#EXTM3U\n"
      "#EXT-X-TWITCH-INFO:NODE=\"video-edge\",SERVING-ID=\"x\"\n"
      "#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"chunked\",NAME=\"1080p60 (source)\",AUTOSELECT=YES,DEFAULT=YES\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=6000000,RESOLUTION=1920x1080,CODECS=\"avc1.64002A,mp4a.40.2\",VIDEO=\"chunked\","
      "FRAME-RATE=60.000\n"
      "https://edge/v1/playlist/chunked.m3u8\n"
      "#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"720p60\",NAME=\"720p60\",AUTOSELECT=YES,DEFAULT=YES\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720,CODECS=\"avc1.4D401F,mp4a.40.2\",VIDEO=\"720p60\"\n"
      "https://edge/v1/playlist/720p60.m3u8\n"
      "#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"audio_only\",NAME=\"audio_only\",AUTOSELECT=NO,DEFAULT=NO\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=160000,CODECS=\"mp4a.40.2\",VIDEO=\"audio_only\"\n"
      "https://edge/v1/playlist/audio_only.m3u8\n";
  auto playlist = parse_playlist(text);
  ASSERT_TRUE(playlist) << playlist.error().message;
  ASSERT_EQ(playlist->kind, PlaylistKind::Master);
  const auto& variants = playlist->master.variants;
  ASSERT_EQ(variants.size(), 3u);
  EXPECT_EQ(variants[0].name, "source");
  EXPECT_EQ(variants[0].bandwidth_bps, 6000000);
  EXPECT_EQ(variants[0].resolution, "1920x1080");
  EXPECT_EQ(variants[0].codecs, "avc1.64002A,mp4a.40.2");
  EXPECT_EQ(variants[0].uri, "https://edge/v1/playlist/chunked.m3u8");
  EXPECT_EQ(variants[1].name, "720p60");
  EXPECT_EQ(variants[2].name, "audio_only");
  EXPECT_EQ(playlist->master.renditions.size(), 3u);
}

TEST(HlsMaster, VariantNamingRules) {
  struct Case {
    const char* stream_inf;
    const char* media;  // an EXT-X-MEDIA line or ""
    const char* name;
  };
  const Case cases[] = {
      {"BANDWIDTH=1,IVS-NAME=\"1080p60\",IVS-VARIANT-SOURCE=\"source\"", "", "source"},
      {"BANDWIDTH=1,IVS-NAME=\"480p30\",IVS-VARIANT-SOURCE=\"transcode\"", "", "480p30"},
      {"BANDWIDTH=1,VIDEO=\"g\"", "#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"g\",NAME=\"936p60 (source)\"", "source"},
      {"BANDWIDTH=1,VIDEO=\"g\"", "#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"g\",NAME=\"480p\"", "480p"},
      {"BANDWIDTH=1,VIDEO=\"g\"", "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"g\",NAME=\"English\"", "1bps"},
      {"BANDWIDTH=1,RESOLUTION=640x360", "", "360p"},
      {"BANDWIDTH=1,VIDEO=\"g\"", "#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"g\",NAME=\"../x y\"", "_.._x_y"},
  };
  for (const Case& c : cases) {
    // A second, plain variant so a lone variant does not default to `source`.
    std::string text = std::string("#EXTM3U\n") + c.media + "\n#EXT-X-STREAM-INF:" + c.stream_inf +
                       "\na.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=99\nb.m3u8\n";
    auto playlist = parse_playlist(text);
    ASSERT_TRUE(playlist) << c.stream_inf << ": " << playlist.error().message;
    EXPECT_EQ(playlist->master.variants[0].name, c.name) << c.stream_inf;
  }
}

TEST(HlsMaster, TwoSourcesAreNone) {
  // Two VIDEO renditions named "… (source)": which one is the source would depend on
  // their order, so neither is called `source`; each keeps its own name.
  auto playlist = parse_playlist(
      "#EXTM3U\n"
      "#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"a\",NAME=\"1080p60 (source)\"\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=6000000,VIDEO=\"a\"\na.m3u8\n"
      "#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"b\",NAME=\"1440p60 (source)\"\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=9000000,VIDEO=\"b\"\nb.m3u8\n"
      "#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"c\",NAME=\"720p60\"\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=3000000,VIDEO=\"c\"\nc.m3u8\n");
  ASSERT_TRUE(playlist) << playlist.error().message;
  const auto& variants = playlist->master.variants;
  EXPECT_TRUE(playlist->master.source_ambiguous);
  EXPECT_EQ(variants[0].name, "1080p60");
  EXPECT_EQ(variants[1].name, "1440p60");
  EXPECT_EQ(variants[2].name, "720p60");
}

TEST(HlsMaster, SharedNamesAreToldApartByCodecNeverByOrder) {
  // Enhanced broadcasting: 1080p60 in H.264 and in HEVC, listed in either order.
  const char* h264 =
      "#EXT-X-STREAM-INF:BANDWIDTH=6000000,CODECS=\"avc1.64002A,mp4a.40.2\",IVS-NAME=\"1080p60\"\nh.m3u8\n";
  const char* hevc =
      "#EXT-X-STREAM-INF:BANDWIDTH=5000000,CODECS=\"hvc1.2.4.L123,mp4a.40.2\",IVS-NAME=\"1080p60\"\nv.m3u8\n";
  for (bool h264_first : {true, false}) {
    std::string text = std::string("#EXTM3U\n") + (h264_first ? h264 : hevc) + (h264_first ? hevc : h264);
    auto playlist = parse_playlist(text);
    ASSERT_TRUE(playlist) << playlist.error().message;
    std::map<std::string, std::string> by_uri;
    for (const auto& v : playlist->master.variants) by_uri[v.uri] = v.name;
    EXPECT_EQ(by_uri["h.m3u8"], "1080p60") << h264_first;
    EXPECT_EQ(by_uri["v.m3u8"], "1080p60_h265") << h264_first;
  }
  // Same codec twice: the STABLE-VARIANT-ID tells them apart.
  auto stable = parse_playlist(
      "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"hvc1.1\",IVS-NAME=\"720p60\",STABLE-VARIANT-ID=\"a1\"\na.m3u8\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=2,CODECS=\"hvc1.1\",IVS-NAME=\"720p60\",STABLE-VARIANT-ID=\"b2\"\nb.m3u8\n");
  ASSERT_TRUE(stable);
  EXPECT_EQ(stable->master.variants[0].name, "720p60_a1");
  EXPECT_EQ(stable->master.variants[1].name, "720p60_b2");
}

TEST(HlsMaster, SessionDataAndAudioOnly) {
  auto playlist = parse_playlist(
      "#EXTM3U\n#EXT-X-SESSION-DATA:DATA-ID=\"com.amazon.ivs.unavailable-media\",VALUE=\"W3siTkFNRSI6IjE0NDBwNjAifV0="
      "\"\n"
      "#EXT-X-SESSION-DATA:VALUE=\"no id\"\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=160000,CODECS=\"mp4a.40.2\",VIDEO=\"audio_only\"\naudio.m3u8\n");
  ASSERT_TRUE(playlist) << playlist.error().message;
  ASSERT_EQ(playlist->master.session_data.size(), 1u);
  EXPECT_EQ(playlist->master.session_data[0].first, "com.amazon.ivs.unavailable-media");
  EXPECT_EQ(playlist->master.warnings.size(), 1u) << "the SESSION-DATA without an id is skipped, not fatal";
  EXPECT_TRUE(audio_only(playlist->master));
  auto video = parse_playlist("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"avc1.4D401F,mp4a.40.2\"\na.m3u8\n");
  EXPECT_FALSE(audio_only(video->master));
  EXPECT_EQ(video_codec_family("mp4a.40.2, av01.0.08M.08"), "av1");
}

TEST(HlsMaster, LoneVariantIsSourceAndDuplicatesGetSuffixes) {
  auto lone = parse_playlist("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=5\nonly.m3u8\n");
  ASSERT_TRUE(lone);
  EXPECT_EQ(lone->master.variants[0].name, "source");
  auto twins = parse_playlist(
      "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=5,RESOLUTION=1x720\na.m3u8\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=6,RESOLUTION=2x720\nb.m3u8\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=7,RESOLUTION=3x720\nc.m3u8\n");
  ASSERT_TRUE(twins);
  EXPECT_EQ(twins->master.variants[0].name, "720p");
  EXPECT_EQ(twins->master.variants[1].name, "720p_2");
  EXPECT_EQ(twins->master.variants[2].name, "720p_3");
}

TEST(HlsMedia, LivePlaylistWithEverything) {
  const char* text =
      "\xEF\xBB\xBF#EXTM3U\r\n"
      "#EXT-X-VERSION:3\r\n"
      "#EXT-X-TARGETDURATION:6\r\n"
      "#EXT-X-MEDIA-SEQUENCE:1234\r\n"
      "#EXT-X-DISCONTINUITY-SEQUENCE:7\r\n"
      "\r\n"
      "#EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=\"720@0\"\r\n"
      "#EXT-X-PROGRAM-DATE-TIME:2026-11-21T04:00:00.000Z\r\n"
      "#EXTINF:2.002,live\r\n"
      "seg1234.ts\r\n"
      "#EXTINF:2\r\n"
      "#EXT-X-BYTERANGE:1000@500\r\n"
      "seg1235.ts\r\n"
      "#EXT-X-DISCONTINUITY\r\n"
      "#EXT-X-PROGRAM-DATE-TIME:2026-11-21T05:00:00+01:00\r\n"
      "#EXTINF:1.5,\r\n"
      "seg1236.ts\r\n"
      "#EXT-X-UNKNOWN-VENDOR-TAG:whatever\r\n"
      "#EXT-X-TWITCH-PREFETCH:https://edge/seg1237.ts\r\n";
  auto playlist = parse_playlist(text);
  ASSERT_TRUE(playlist) << playlist.error().message;
  ASSERT_EQ(playlist->kind, PlaylistKind::Media);
  const MediaPlaylist& media = playlist->media;
  EXPECT_EQ(media.target_duration_s, 6);
  EXPECT_EQ(media.media_sequence, 1234);
  EXPECT_FALSE(media.endlist);
  ASSERT_EQ(media.segments.size(), 3u);
  EXPECT_EQ(media.segments[0].uri, "seg1234.ts");
  EXPECT_EQ(media.segments[0].duration, 2'002'000);
  EXPECT_EQ(media.segments[0].title, "live");
  EXPECT_EQ(media.segments[0].program_date_time, at("2026-11-21T04:00:00Z"));
  EXPECT_EQ(media.segments[0].map_uri, "init.mp4");
  EXPECT_FALSE(media.segments[0].discontinuity);  // DISCONTINUITY-SEQUENCE is another tag
  EXPECT_EQ(media.segments[1].duration, 2'000'000);
  EXPECT_EQ(media.segments[1].title, "");
  EXPECT_FALSE(media.segments[1].program_date_time);
  ASSERT_TRUE(media.segments[1].byterange);
  EXPECT_EQ(media.segments[1].byterange->length, 1000);
  EXPECT_EQ(media.segments[1].byterange->offset, 500);
  EXPECT_TRUE(media.segments[2].discontinuity);
  EXPECT_EQ(media.segments[2].program_date_time, at("2026-11-21T04:00:00Z"));
  EXPECT_EQ(media.segments[2].duration, 1'500'000);
  ASSERT_EQ(media.prefetch_uris.size(), 1u);
  EXPECT_EQ(media.prefetch_uris[0], "https://edge/seg1237.ts");
}

TEST(HlsMedia, EndListAndEmptyLivePlaylist) {
  auto ended = parse_playlist("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\na.ts\n#EXT-X-ENDLIST\n");
  ASSERT_TRUE(ended);
  EXPECT_TRUE(ended->media.endlist);
  auto empty = parse_playlist("#EXTM3U\n#EXT-X-TARGETDURATION:2\n");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->kind, PlaylistKind::Media);
  EXPECT_TRUE(empty->media.segments.empty());
}

TEST(HlsMedia, AdsAreMarkedNotDropped) {
  const char* text =
      "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
      "#EXTINF:2.0,live\nlive1.ts\n"
      "#EXTINF:2.0,Amazon|123\nad1.ts\n"
      "#EXTINF:2.0,live\nlive2.ts\n"
      "#EXT-X-CUE-OUT:30\n"
      "#EXTINF:2.0,\ncue.ts\n"
      "#EXTINF:2.0,live\nmarked-but-live.ts\n"
      "#EXT-X-CUE-IN\n"
      "#EXTINF:2.0,Amazon\nstitched.ts\n"
      "#EXTINF:2.0,live\nafter.ts\n";
  auto playlist = parse_playlist(text);
  ASSERT_TRUE(playlist) << playlist.error().message;
  std::vector<bool> ads;
  for (const auto& s : playlist->media.segments) ads.push_back(s.ad);
  EXPECT_EQ(ads, (std::vector<bool>{false, true, false, true, false, true, false}));
}

TEST(HlsMedia, StitchedAdDateRangesCoverHalfOpenRanges) {
  // An ad from 04:00:02 for 4 s: the segments starting at :02 and :04 are in it, the
  // one starting at :06 (its end) is the stream again, and so is everything after.
  // The range is known by its CLASS, or by an ID `stitched-ad-…` alone.
  for (const char* daterange :
       {"#EXT-X-DATERANGE:ID=\"ad1\",CLASS=\"twitch-stitched-ad\",START-DATE=\"2026-11-21T04:00:02.000Z\","
        "DURATION=4.000",
        "#EXT-X-DATERANGE:ID=\"stitched-ad-1795233602-4\",START-DATE=\"2026-11-21T04:00:02Z\","
        "END-DATE=\"2026-11-21T04:00:06Z\""}) {
    std::string text = std::string("#EXTM3U\n#EXT-X-TARGETDURATION:2\n") + daterange +
                       "\n#EXT-X-PROGRAM-DATE-TIME:2026-11-21T04:00:00.000Z\n"
                       "#EXTINF:2.0,\na.ts\n#EXTINF:2.0,\nb.ts\n#EXTINF:2.0,\nc.ts\n"
                       "#EXTINF:2.0,\nd.ts\n#EXTINF:2.0,\ne.ts\n";
    auto playlist = parse_playlist(text);
    ASSERT_TRUE(playlist) << playlist.error().message;
    std::vector<bool> ads;
    for (const auto& s : playlist->media.segments) ads.push_back(s.ad);
    EXPECT_EQ(ads, (std::vector<bool>{false, true, true, false, false})) << daterange;
    ASSERT_EQ(playlist->media.ad_ranges.size(), 1u);
    // Marked, but its segments say `live`: content (Twitch has done this).
    std::string live = text;
    for (std::size_t at = live.find("#EXTINF:2.0,\n"); at != std::string::npos; at = live.find("#EXTINF:2.0,\n", at)) {
      live.replace(at, 13, "#EXTINF:2.0,live\n");
    }
    auto marked = parse_playlist(live);
    ASSERT_TRUE(marked) << marked.error().message;
    for (const auto& s : marked->media.segments) EXPECT_FALSE(s.ad) << s.uri;
  }
  // Other DATERANGEs mark nothing; a malformed one is skipped with a warning.
  auto other = parse_playlist(
      "#EXTM3U\n#EXT-X-DATERANGE:ID=\"x\",CLASS=\"twitch-session\",START-DATE=\"2026-11-21T04:00:00Z\","
      "DURATION=60\n#EXT-X-DATERANGE:ID=\"broken\n#EXT-X-PROGRAM-DATE-TIME:2026-11-21T04:00:00Z\n"
      "#EXTINF:2.0,live\na.ts\n");
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_FALSE(other->media.segments[0].ad);
  ASSERT_EQ(other->media.warnings.size(), 1u);
  EXPECT_NE(other->media.warnings[0].find("line 3: skipped a bad EXT-X-DATERANGE"), std::string::npos)
      << other->media.warnings[0];
}

TEST(HlsMedia, NumbersAsRfc8216AllowsThem) {
  for (const char* sequence : {"0", "9223372036854775808", "18446744073709551615"}) {
    auto playlist = parse_playlist(std::string("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:") + sequence + "\n");
    ASSERT_TRUE(playlist) << sequence << ": " << playlist.error().message;
    EXPECT_EQ(std::to_string(playlist->media.media_sequence), sequence);
  }
  for (const char* bad : {"18446744073709551616", "-1", "1.5", ""}) {
    EXPECT_FALSE(parse_playlist(std::string("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:") + bad + "\n")) << bad;
  }
  auto short_extinf = parse_playlist("#EXTM3U\n#EXTINF:.500,\na.ts\n#EXTINF:0.5\nb.ts\n");
  ASSERT_TRUE(short_extinf) << short_extinf.error().message;
  EXPECT_EQ(short_extinf->media.segments[0].duration, 500'000);
  EXPECT_EQ(short_extinf->media.segments[1].duration, 500'000);
  EXPECT_FALSE(short_extinf->media.target_duration_s) << "absent, not 0";
  auto no_bandwidth = parse_playlist("#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1x2\na.m3u8\n");
  ASSERT_TRUE(no_bandwidth);
  EXPECT_FALSE(no_bandwidth->master.variants[0].bandwidth_bps);
}

TEST(HlsPlaylist, BadBodiesAreErrorsThatSayWhy) {
  struct Case {
    std::string text;
    const char* message_part;
  };
  const Case cases[] = {
      {"", "empty body"},
      {"\n\n", "empty body"},
      {"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "must be #EXTM3U"},
      {"#EXTM3Ux\n#EXTINF:2,\na.ts\n", "must be #EXTM3U"},
      {"#EXTM3U\n#EXTINF:2.0,\na.ts\n#EXTINF:2.0,\n", "truncated"},
      {"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n", "truncated"},
      {"#EXTM3U\n#EXTINF:2.0,\n#EXTINF:2.0,\nb.ts\n", "entry has no URI"},
      {"#EXTM3U\n#EXTINF:abc,\na.ts\n", "bad EXTINF"},
      {"#EXTM3U\n#EXTINF:-2,\na.ts\n", "bad EXTINF"},
      {"#EXTM3U\n#EXT-X-PROGRAM-DATE-TIME:yesterday\n#EXTINF:2,\na.ts\n", "PROGRAM-DATE-TIME"},
      {"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=x\na.m3u8\n", "bad BANDWIDTH"},
      {"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=\"1\na.m3u8\n", "unterminated"},
      {"#EXTM3U\na.ts\n", "URI without"},
      {"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n#EXTINF:2,\nb.ts\n", "mixes master and media"},
      {"#EXTM3U\n#EXT-X-TARGETDURATION:two\n", "TARGETDURATION"},
      {"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:-1\n", "MEDIA-SEQUENCE"},
      {"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:18446744073709551616\n", "MEDIA-SEQUENCE"},
      {"#EXTM3U\n#EXT-X-BYTERANGE:x@1\n#EXTINF:2,\na.ts\n", "BYTERANGE"},
      {"#EXTM3U\n#EXT-X-MAP:BYTERANGE=\"1@0\"\n", "EXT-X-MAP without URI"},
      {std::string("#EXTM3U\n#EXTINF:2,\n\0\xff\xfe", 22), "control characters"},
  };
  for (const Case& c : cases) {
    auto playlist = parse_playlist(c.text);
    ASSERT_FALSE(playlist) << "accepted: " << c.text;
    EXPECT_NE(playlist.error().message.find(c.message_part), std::string::npos)
        << c.text << " -> " << playlist.error().message;
  }
}

TEST(HlsPlaylist, TruncatedBodiesNeverCrash) {
  // Every prefix of a valid playlist either parses or is an error.
  std::string text =
      "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PROGRAM-DATE-TIME:2026-11-21T04:00:00Z\n"
      "#EXTINF:2.0,live\nseg1.ts\n#EXT-X-MAP:URI=\"i.mp4\"\n#EXTINF:2.0,live\nseg2.ts\n";
  int ok = 0;
  for (std::size_t n = 0; n <= text.size(); ++n) ok += bool(parse_playlist(text.substr(0, n)));
  EXPECT_GT(ok, 0);
}

}  // namespace hls_playlist_test
}  // namespace wubd::core
