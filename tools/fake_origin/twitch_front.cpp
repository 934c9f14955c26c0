#include "twitch_front.h"

#include <simdjson.h>

namespace wubd::fake_origin {
namespace {

std::string json_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

Answer gql_error(const std::string& message) {
  return {200, "application/json", R"({"errors":[{"message":")" + json_escape(message) + R"("}],"data":null})"};
}

}  // namespace

Answer TwitchFront::gql(const std::string& body, long long expires) const {
  simdjson::ondemand::parser parser;
  simdjson::padded_string json(body);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  if (parser.iterate(json).get(doc) || doc.get_object().get(root)) {
    return {400, "application/json", R"({"error":"Bad Request","status":400,"message":"body is not JSON"})"};
  }
  std::string hash, query, login, platform;
  bool has_platform = false;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) break;
    std::string_view text;
    if (key == "query" && !field.value().get_string().get(text)) query = std::string(text);
    if (key == "extensions") {
      std::string_view h;
      if (!field.value()["persistedQuery"]["sha256Hash"].get_string().get(h)) hash = std::string(h);
    }
    if (key == "variables") {
      simdjson::ondemand::object variables;
      if (field.value().get_object().get(variables)) continue;
      for (auto variable : variables) {
        std::string_view name, value;
        if (variable.unescaped_key().get(name)) break;
        if (variable.value().get_string().get(value)) continue;
        if (name == "login") login = std::string(value);
        if (name == "platform") {
          platform = std::string(value);
          has_platform = true;
        }
      }
    }
  }
  // A query text is run as it is; a persisted query only if its hash is current.
  bool text_ok = query.find("streamPlaybackAccessToken") != std::string::npos;
  if (!text_ok && hash != options_.query_hash) return gql_error("PersistedQueryNotFound");
  if (options_.require_platform && !has_platform)
    return gql_error("Variable \"$platform\" of required type \"String!\" was not provided.");
  if (options_.gql_answer == "unauthorized") {
    return {401, "application/json",
            R"({"error":"Unauthorized","status":401,"message":"The \"Authorization\" token is invalid."})"};
  }
  if (options_.gql_answer == "gql-error") return gql_error("service timeout");
  if (options_.gql_answer == "null" || login != options_.channel) {
    return {200, "application/json", R"({"data":{"streamPlaybackAccessToken":null}})"};
  }
  std::string value = R"({"channel":")" + options_.channel + R"(","expires":)" + std::to_string(expires) +
                      R"(,"maximum_resolution":"FULL_HD","maximum_video_bitrate_kbps":8500,"platform":")" + platform +
                      R"("})";
  std::string escaped = json_escape(value);
  return {200, "application/json",
          R"({"data":{"streamPlaybackAccessToken":{"value":")" + escaped + R"(","signature":"sig-)" + escaped +
              R"(","__typename":"PlaybackAccessToken"}}})"};
}

int TwitchFront::usher_version(const std::string& path) const {
  if (path == "/api/channel/hls/" + options_.channel + ".m3u8") return 1;
  if (path == "/api/v2/channel/hls/" + options_.channel + ".m3u8") return 2;
  return 0;
}

std::optional<Answer> TwitchFront::usher_refusal(const core::QueryParams& params, int version) const {
  auto param = [&](const char* name) -> const std::string* {
    auto it = params.find(name);
    return it == params.end() ? nullptr : &it->second;
  };
  auto error = [](int status, const std::string& message, const std::string& code) {
    return Answer{status, "application/json",
                  R"([{"url":"https://usher.ttvnw.net/api/channel/hls","error":")" + message + R"(","error_code":")" +
                      code + R"(","type":"error"}])"};
  };
  const std::string* token = param("token");
  const std::string* sig = param("sig");
  if (!token || !sig || *sig != "sig-" + *token) return error(403, "bad or missing sig/token", "unauthorized");
  if (version == 2) {
    const std::string* platform = param("platform");
    if (!platform || *platform != "web") return error(400, "platform is required", "bad_request");
  }
  if (options_.usher_error == "offline") {
    return error(404, "twirp error not_found: transcode does not exist", "transcode_does_not_exist");
  }
  if (options_.usher_error == "geoblock") return error(403, "Content Restricted In Region", "content_geoblocked");
  if (options_.usher_error == "entitlement") {
    return error(403, "This content is restricted to subscribers", "vod_manifest_restricted");
  }
  return std::nullopt;
}

}  // namespace wubd::fake_origin
