#include "wubd/downloader/inspect_playlist.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <cJSON.h>
#include <uv.h>

#include "wubd/core/download_policy.h"
#include "wubd/core/hls_playlist.h"
#include "wubd/io/http_client.h"

namespace wubd::downloader {
namespace {

struct Fetched {
  std::string body;
  std::string error;
};

// A one-off fetch: this command runs before (and instead of) the daemon's loop.
Fetched fetch_url(const std::string& url) {
  Fetched fetched;
  uv_loop_t loop{};
  uv_loop_init(&loop);
  {
    io::HttpClient client(&loop, "wubd/0.1 (inspect-playlist)");
    io::FetchRequest request;
    request.url = url;
    request.total_timeout_ms = 30'000;
    io::fetch_text(client, std::move(request), 64u << 20, [&](io::TextResult text) {
      if (!text.complete) {
        fetched.error = "cannot fetch " + url + ": " + text.error;
      } else if (text.status < 200 || text.status >= 300) {
        fetched.error = "cannot fetch " + url + ": HTTP " + std::to_string(text.status);
      }
      fetched.body = std::move(text.body);
      client.close([] {});
    });
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_loop_close(&loop);
  return fetched;
}

std::string resolve(const std::string& base, const std::string& uri) {
  if (base.empty()) return uri;
  auto resolved = io::resolve_url(base, uri);
  return resolved ? *resolved : uri;
}

cJSON* time_or_null(std::optional<core::Micros> t) {
  return t ? cJSON_CreateString(core::format_time_us(*t).c_str()) : cJSON_CreateNull();
}

// A number, or null when the playlist did not say.
cJSON* number_or_null(std::optional<std::int64_t> value) {
  return value ? cJSON_CreateNumber(double(*value)) : cJSON_CreateNull();
}

cJSON* master_json(const core::MasterPlaylist& master, const std::string& base) {
  cJSON* root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "kind", "master");
  cJSON* variants = cJSON_AddArrayToObject(root, "variants");
  for (const core::HlsVariant& v : master.variants) {
    cJSON* item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "name", v.name.c_str());
    cJSON_AddStringToObject(item, "uri", resolve(base, v.uri).c_str());
    cJSON_AddItemToObject(item, "bandwidth", number_or_null(v.bandwidth_bps));
    if (v.resolution.empty()) {
      cJSON_AddNullToObject(item, "resolution");
    } else {
      cJSON_AddStringToObject(item, "resolution", v.resolution.c_str());
    }
    cJSON_AddStringToObject(item, "codecs", v.codecs.c_str());
    cJSON_AddItemToArray(variants, item);
  }
  return root;
}

cJSON* media_json(const core::MediaPlaylist& media, const std::string& base) {
  cJSON* root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "kind", "media");
  cJSON_AddItemToObject(root, "target_duration", number_or_null(media.target_duration_s));
  // Up to 2^64-1: written as its exact digits (a double would round it).
  cJSON_AddRawToObject(root, "media_sequence", std::to_string(media.media_sequence).c_str());
  cJSON_AddBoolToObject(root, "endlist", media.endlist);
  cJSON* segments = cJSON_AddArrayToObject(root, "segments");
  std::vector<std::optional<core::Micros>> starts = core::segment_start_times(media);
  for (std::size_t i = 0; i < media.segments.size(); ++i) {
    const core::HlsSegment& s = media.segments[i];
    cJSON* item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "uri", resolve(base, s.uri).c_str());
    cJSON_AddNumberToObject(item, "duration", double(s.duration) / 1e6);
    cJSON_AddItemToObject(item, "program_date_time", time_or_null(s.program_date_time));
    // The time wubd files the segment under: PROGRAM-DATE-TIME carried forward.
    cJSON_AddItemToObject(item, "start", time_or_null(starts[i]));
    cJSON_AddBoolToObject(item, "discontinuity", s.discontinuity);
    cJSON_AddStringToObject(item, "title", s.title.c_str());
    cJSON_AddBoolToObject(item, "ad", s.ad);
    cJSON_AddItemToArray(segments, item);
  }
  cJSON* prefetch = cJSON_AddArrayToObject(root, "prefetch");
  for (const std::string& uri : media.prefetch_uris)
    cJSON_AddItemToArray(prefetch, cJSON_CreateString(resolve(base, uri).c_str()));
  return root;
}

}  // namespace

int inspect_playlist(const std::string& source, const std::string& base_uri) {
  std::string body;
  std::string base = base_uri;
  if (source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0) {
    Fetched fetched = fetch_url(source);
    if (!fetched.error.empty()) {
      std::fprintf(stderr, "%s\n", fetched.error.c_str());
      return 1;
    }
    body = std::move(fetched.body);
    if (base.empty()) base = source;
  } else {
    std::ifstream file(source, std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "cannot read %s\n", source.c_str());
      return 1;
    }
    std::ostringstream text;
    text << file.rdbuf();
    body = text.str();
  }
  auto playlist = core::parse_playlist(body);
  if (!playlist) {
    std::fprintf(stderr, "%s: not a playlist wubd can read: %s\n", source.c_str(), playlist.error().message.c_str());
    return 1;
  }
  cJSON* json = playlist->kind == core::PlaylistKind::Master ? master_json(playlist->master, base)
                                                             : media_json(playlist->media, base);
  char* text = cJSON_Print(json);
  std::printf("%s\n", text);
  cJSON_free(text);
  cJSON_Delete(json);
  return 0;
}

}  // namespace wubd::downloader
