#include "wubd/core/routes.h"

#include <gtest/gtest.h>

namespace wubd::core {
namespace routes_test {

TEST(Routes, EveryEndpoint) {
  struct Case {
    const char* path;
    RouteKind kind;
    const char* stream;
    const char* variant;
    const char* hour;
    const char* file;
  };
  const Case cases[] = {
      {"/files", RouteKind::ListStreams, "", "", "", ""},
      {"/files/db", RouteKind::ListVariants, "db", "", "", ""},
      {"/files/db/source", RouteKind::ListHours, "db", "source", "", ""},
      {"/files/db/source/2026-11-21T04", RouteKind::ListSegments, "db", "source", "2026-11-21T04", ""},
      {"/playlist/db.m3u8", RouteKind::MasterPlaylist, "db", "", "", ""},
      {"/playlist/db/720p60.m3u8", RouteKind::MediaPlaylist, "db", "720p60", "", ""},
      {"/segments/db/source/2026-11-21T04/00%3A00.000000-2.0-full-AAAA.ts", RouteKind::Segment, "db", "source",
       "2026-11-21T04", "00:00.000000-2.0-full-AAAA.ts"},
      {"/segments/db/source/2026-11-21T04/00:00.000000-2.0-full-AAAA.ts", RouteKind::Segment, "db", "source",
       "2026-11-21T04", "00:00.000000-2.0-full-AAAA.ts"},
      {"/cut/db/source.ts", RouteKind::Cut, "db", "source", "", ""},
      {"/cut/db/source.mp4", RouteKind::Cut, "db", "source", "", ""},
      {"/coverage/db/source.json", RouteKind::Coverage, "db", "source", "", ""},
      {"/coverage/db/source.png", RouteKind::Coverage, "db", "source", "", ""},
      {"/coverage/db/source.svg", RouteKind::Coverage, "db", "source", "", ""},
      {"/ui/", RouteKind::Ui, "", "", "", "index.html"},
      {"/ui", RouteKind::Ui, "", "", "", ""},  // redirected to /ui/
      {"/metrics", RouteKind::Metrics, "", "", "", ""},
      {"/files/my%20stream", RouteKind::ListVariants, "my stream", "", "", ""},
      {"/playlist/a.m3u8.m3u8", RouteKind::MasterPlaylist, "a.m3u8", "", "", ""},
      {"/waveform/db/source.png", RouteKind::Waveform, "db", "source", "", ""},
      {"/frame/db/source.png", RouteKind::Frame, "db", "source", "", ""},
      {"/frame/db/source.jpg", RouteKind::Frame, "db", "source", "", ""},
      {"/thumbnail/db/source.png", RouteKind::Thumbnail, "db", "source", "", ""},
      {"/db/chat.json", RouteKind::Chat, "db", "", "", ""},
      {"/my%20stream/chat.json", RouteKind::Chat, "my stream", "", "", ""},
      {"/generate_videos/db/source", RouteKind::GenerateVideos, "db", "source", "", ""},
  };
  for (const Case& c : cases) {
    auto r = route_path(c.path);
    ASSERT_TRUE(r.ok()) << c.path << ": " << r.error().message;
    EXPECT_EQ(r->kind, c.kind) << c.path;
    EXPECT_EQ(r->stream, c.stream) << c.path;
    EXPECT_EQ(r->variant, c.variant) << c.path;
    EXPECT_EQ(r->hour, c.hour) << c.path;
    EXPECT_EQ(r->file, c.file) << c.path;
  }
}

TEST(Routes, UnknownPathsAre404) {
  for (const char* path :
       {"", "/nope", "//", "/files/a/b/c/d", "/playlist/db", "/playlist/db/source", "/playlist/a/b/c.m3u8",
        "/segments/a", "/segments", "/extras", "/extras/a/b", "/cut/db/source.mkv", "/cut/db.ts",
        "/coverage/db/source.gif", "/coverage/db.json", "/metrics/x", "files"}) {
    auto r = route_path(path);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.error().code, 404) << path;
  }
}

TEST(Routes, BadPathPartsAre403NamingThePart) {
  struct Case {
    const char* path;
    const char* part;
  };
  const Case cases[] = {
      {"/files/..", "stream"},
      {"/files/.hidden", "stream"},
      {"/files/%2e%2e", "stream"},
      {"/files/%2E./x", "stream"},
      {"/files/db/..", "variant"},
      {"/files/db/source/..", "hour"},
      {"/files/db/source/%2e%2e%2f%2e%2e", "hour"},
      {"/files/a%2fb", "stream"},
      {"/files/a%2Fb/source", "stream"},
      {"/files/a%00b", "stream"},
      {"/files//source", "stream"},
      {"/files/db//2026", "variant"},
      {"/files/", "stream"},
      {"/playlist/...m3u8", "stream"},
      {"/playlist/.m3u8", "stream"},
      {"/playlist/db/..%2f..%2fetc.m3u8", "variant"},
      {"/segments/../source/h/f.ts", "stream"},
      {"/segments/db/../h/f.ts", "variant"},
      {"/segments/db/source/../f.ts", "hour"},
      {"/segments/db/source/h/..", "file"},
      {"/segments/db/source/h/%2e%2e%2fpasswd", "file"},
      {"/segments/db/source/h/a%2Fb.ts", "file"},
      {"/segments/db/source/h/.hidden.ts", "file"},
      {"/segments/db/source/h/", "file"},
      {"/files/%C3%28", "stream"},                     // an invalid two-byte sequence
      {"/files/db/%FF", "variant"},                    // a byte UTF-8 never uses
      {"/segments/db/source/h/%ED%A0%80.ts", "file"},  // a surrogate, not a character
      {"/cut/../source.ts", "stream"},
      {"/cut/db/..%2Fx.ts", "variant"},
  };
  for (const Case& c : cases) {
    auto r = route_path(c.path);
    ASSERT_FALSE(r.ok()) << "accepted " << c.path;
    EXPECT_EQ(r.error().code, 403) << c.path << ": " << r.error().message;
    EXPECT_EQ(r.error().message.rfind(std::string("Bad ") + c.part + ":", 0), 0u)
        << c.path << ": " << r.error().message;
  }
}

TEST(Routes, AnyFileBelowTheBaseUnderSegmentsAndExtrasListings) {
  // wubloader serves its whole base under /segments: extras are fetched so.
  auto emote = route_path("/segments/emotes/25/dark-1.0");
  ASSERT_TRUE(emote) << emote.error().message;
  EXPECT_EQ(emote->kind, RouteKind::File);
  EXPECT_EQ(emote->parts, (std::vector<std::string>{"emotes", "25", "dark-1.0"}));
  EXPECT_EQ(endpoint_label(emote->kind), "segments");
  auto deep = route_path("/segments/x/a%20b/c/d/e");
  ASSERT_TRUE(deep);
  EXPECT_EQ(deep->parts, (std::vector<std::string>{"x", "a b", "c", "d", "e"}));
  for (const char* bad : {"/segments/emotes/../x", "/segments/emotes/.git/config", "/segments/a/b/c/d/%2e%2e/f",
                          "/segments/emotes//x", "/segments/a/b/c/"}) {
    auto r = route_path(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, 403) << bad;
  }
  auto extras = route_path("/extras/emotes");
  ASSERT_TRUE(extras);
  EXPECT_EQ(extras->kind, RouteKind::ListExtras);
  EXPECT_EQ(extras->stream, "emotes");
  EXPECT_EQ(endpoint_label(extras->kind), "extras");
  auto hidden = route_path("/extras/..");
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().code, 403);
}

TEST(Routes, RelativePathsFromPeersObeyTheSameRules) {
  auto ok = split_relative_path("25/dark-1.0", 16);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, (std::vector<std::string>{"25", "dark-1.0"}));
  for (const char* bad : {"", "/etc/passwd", "a//b", "a/", "../x", "a/../../x", ".hidden", "a/.b"}) {
    EXPECT_FALSE(split_relative_path(bad, 16)) << bad;
  }
  EXPECT_FALSE(split_relative_path(std::string("a\0b", 3), 16));
  EXPECT_TRUE(split_relative_path("a/b/c", 3));
  EXPECT_FALSE(split_relative_path("a/b/c/d", 3));
}

TEST(Routes, APartIsJudgedBeforeTheNumberOfParts) {
  // Too many or too few parts would be 404, but a bad part anywhere is 403 first.
  for (const char* path : {"/files/../a/b/c/d", "/playlist/..", "/playlist/a/../b/c.m3u8", "/cut/../x/y.ts",
                           "/metrics/..", "/jobs/%2e%2e", "/extras/a/..", "/segments/a/b/c/d/../e"}) {
    auto r = route_path(path);
    ASSERT_FALSE(r) << path;
    EXPECT_EQ(r.error().code, 403) << path << ": " << r.error().message;
  }
  EXPECT_EQ(route_path("/nope/..").error().code, 404);  // no such family: nothing to judge
  auto accented = route_path("/files/%C3%A9t%C3%A9");   // valid UTF-8 is a name like any other
  ASSERT_TRUE(accented);
  EXPECT_EQ(accented->stream, "\xC3\xA9t\xC3\xA9");
}

TEST(Routes, MalformedEscapeIs400) {
  auto r = route_path("/files/a%zz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 400);
  EXPECT_NE(r.error().message.find("stream"), std::string::npos);
}

TEST(Routes, TheEditorsRoutesKeepTheirExtensionsAndTheirRules) {
  EXPECT_EQ(route_path("/frame/db/source.jpg")->extension, "jpg");
  EXPECT_EQ(route_path("/frame/db/source.png")->extension, "png");
  EXPECT_EQ(route_path("/cut/db/source.mp4")->extension, "mp4");
  EXPECT_EQ(route_path("/coverage/db/source.svg")->extension, "svg");
  EXPECT_EQ(route_path("/ui/editor.js")->file, "editor.js");
  EXPECT_EQ(route_path("/frame/db/source.gif").error().code, 404);
  EXPECT_EQ(route_path("/waveform/db/source.jpg").error().code, 404);
  EXPECT_EQ(route_path("/waveform/../source.png").error().code, 403);
  EXPECT_EQ(route_path("/frame/db/..%2Fx.png").error().code, 403);
  EXPECT_EQ(route_path("/.hidden/chat.json").error().code, 403);
  EXPECT_EQ(route_path("/db/chat.txt").error().code, 404);
  // A family's own name is not a stream's chat (as wubloader's routes match).
  EXPECT_EQ(route_path("/files/chat.json")->kind, RouteKind::ListVariants);
  EXPECT_EQ(endpoint_label(RouteKind::Frame), "frame");
  EXPECT_EQ(endpoint_label(RouteKind::Chat), "chat");
}

TEST(Routes, EndpointLabelsAreBounded) {
  EXPECT_EQ(endpoint_label(RouteKind::ListHours), "files");
  EXPECT_EQ(endpoint_label(RouteKind::MediaPlaylist), "playlist_media");
  EXPECT_EQ(endpoint_label(RouteKind::Segment), "segments");
  auto index = route_path("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->kind, RouteKind::Index);
  EXPECT_EQ(endpoint_label(index->kind), "index");
}

}  // namespace routes_test
}  // namespace wubd::core
