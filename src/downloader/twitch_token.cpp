#include "twitch_token.h"

#include <cJSON.h>
#include <simdjson.h>

#include "wubd/core/url.h"
#include "wubd/io/json_text.h"

namespace wubd::downloader {
namespace {

// The query text Twitch's own player sends, for when the persisted query's hash has
// rotted: GQL then runs the text as it is.
constexpr const char* kAccessTokenQuery =
    "query PlaybackAccessToken($login: String!, $isLive: Boolean!, $vodID: ID!, $isVod: Boolean!, "
    "$playerType: String!, $platform: String!) { "
    "streamPlaybackAccessToken(channelName: $login, params: {platform: $platform, playerBackend: \"mediaplayer\", "
    "playerType: $playerType}) @include(if: $isLive) { value signature } "
    "videoPlaybackAccessToken(id: $vodID, params: {platform: $platform, playerBackend: \"mediaplayer\", "
    "playerType: $playerType}) @include(if: $isVod) { value signature } }";

void set_variable(cJSON* variables, const std::string& key, const std::string& value) {
  cJSON_DeleteItemFromObjectCaseSensitive(variables, key.c_str());
  if (value == "true" || value == "false") {
    cJSON_AddBoolToObject(variables, key.c_str(), value == "true");
  } else {
    cJSON_AddStringToObject(variables, key.c_str(), value.c_str());
  }
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts) out += (out.empty() ? "" : "; ") + part;
  return out;
}

}  // namespace

std::string TwitchConfig::usher_url_for(const std::string& login) const {
  std::string url = usher_url;
  if (url.empty()) {
    url = usher_version == 1 ? "https://usher.ttvnw.net/api/channel/hls/{channel}.m3u8"
                             : "https://usher.ttvnw.net/api/v2/channel/hls/{channel}.m3u8";
  }
  if (std::size_t at = url.find("{channel}"); at != std::string::npos) url.replace(at, 9, core::percent_encode(login));
  return url;
}

std::string token_request_body(const TwitchConfig& config, const std::string& login, bool with_query_text) {
  cJSON* root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "operationName", "PlaybackAccessToken");
  if (with_query_text) {
    cJSON_AddStringToObject(root, "query", kAccessTokenQuery);
  } else {
    cJSON* extensions = cJSON_AddObjectToObject(root, "extensions");
    cJSON* persisted = cJSON_AddObjectToObject(extensions, "persistedQuery");
    cJSON_AddNumberToObject(persisted, "version", 1);
    cJSON_AddStringToObject(persisted, "sha256Hash", config.query_hash.c_str());
  }
  cJSON* variables = cJSON_AddObjectToObject(root, "variables");
  cJSON_AddBoolToObject(variables, "isLive", true);
  cJSON_AddStringToObject(variables, "login", login.c_str());
  cJSON_AddBoolToObject(variables, "isVod", false);
  cJSON_AddStringToObject(variables, "vodID", "");
  cJSON_AddStringToObject(variables, "playerType", config.player_type.c_str());
  cJSON_AddStringToObject(variables, "platform", config.platform.c_str());
  for (const auto& [key, value] : config.token_params) set_variable(variables, key, value);
  return io::take_json_text(root);
}

TokenAnswer read_token_answer(long status, std::string_view body) {
  TokenAnswer answer;
  simdjson::ondemand::parser parser;
  simdjson::padded_string json(body);
  simdjson::ondemand::document doc;
  if (parser.iterate(json).get(doc)) {
    answer.message = "GQL answered HTTP " + std::to_string(status) + " with a body that is not a JSON object";
    return answer;
  }
  simdjson::ondemand::object root;
  if (doc.get_object().get(root)) {
    answer.message = "GQL answered HTTP " + std::to_string(status) + " with a body that is not a JSON object";
    return answer;
  }
  // Fields are read in one pass, in whatever order they come.
  std::vector<std::string> messages;
  bool have_data = false, token_null = false;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) break;
    if (key == "errors") {
      simdjson::ondemand::array errors;
      if (field.value().get_array().get(errors)) continue;
      for (auto error : errors) {
        std::string_view message;
        if (!error["message"].get_string().get(message)) messages.emplace_back(message);
      }
    } else if (key == "error" || key == "message") {
      std::string_view text;
      if (!field.value().get_string().get(text)) messages.emplace_back(std::string(key) + ": " + std::string(text));
    } else if (key == "data") {
      simdjson::ondemand::object data;
      if (field.value().get_object().get(data)) continue;
      simdjson::ondemand::value token;
      if (data["streamPlaybackAccessToken"].get(token)) continue;
      have_data = true;
      if (token.is_null()) {
        token_null = true;
        continue;
      }
      std::string_view value, signature;
      simdjson::ondemand::object object;
      if (token.get_object().get(object)) continue;
      for (auto item : object) {
        std::string_view name;
        if (item.unescaped_key().get(name)) break;
        // A field of another type is as good as missing.
        if (name == "value" && item.value().get_string().get(value)) value = {};
        if (name == "signature" && item.value().get_string().get(signature)) signature = {};
      }
      answer.value = std::string(value);
      answer.signature = std::string(signature);
    }
  }
  for (const std::string& message : messages) {
    if (message == "PersistedQueryNotFound") {
      answer.kind = TokenAnswer::Kind::PersistedQueryNotFound;
      answer.message = message;
      return answer;
    }
  }
  if (!answer.value.empty() && !answer.signature.empty()) {
    answer.kind = TokenAnswer::Kind::Token;
    return answer;
  }
  if (token_null && messages.empty()) {
    answer.kind = TokenAnswer::Kind::NoSuchChannel;
    answer.message = "no such channel (streamPlaybackAccessToken is null)";
    return answer;
  }
  answer.message = !messages.empty() ? join(messages)
                   : have_data       ? "the access token has no value or signature"
                                     : "GQL answered HTTP " + std::to_string(status) + " without an access token";
  return answer;
}

std::vector<std::string> token_limits(std::string_view token_value) {
  std::vector<std::string> limits;
  simdjson::ondemand::parser parser;
  simdjson::padded_string json(token_value);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  if (parser.iterate(json).get(doc) || doc.get_object().get(root)) return limits;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) break;
    if (key != "maximum_resolution" && key != "maximum_video_bitrate_kbps" && key != "geoblock_reason") continue;
    simdjson::ondemand::value value;
    if (field.value().get(value)) continue;
    std::string_view text;
    std::int64_t number = 0;
    if (!value.get_string().get(text)) {
      if (!text.empty()) limits.push_back(std::string(key) + " " + std::string(text));
    } else if (!value.get_int64().get(number)) {
      limits.push_back(std::string(key) + " " + std::to_string(number));
    }
  }
  return limits;
}

UsherError read_usher_error(std::string_view body) {
  UsherError error;
  simdjson::ondemand::parser parser;
  simdjson::padded_string json(body);
  simdjson::ondemand::document doc;
  simdjson::ondemand::array list;
  if (parser.iterate(json).get(doc) || doc.get_array().get(list)) return error;
  for (auto item : list) {
    simdjson::ondemand::object object;
    if (item.get_object().get(object)) continue;
    for (auto field : object) {
      std::string_view key, text;
      if (field.unescaped_key().get(key)) break;
      if (field.value().get_string().get(text)) continue;
      if (key == "error_code") error.code = std::string(text);
      if (key == "error") error.message = std::string(text);
    }
    break;  // the first entry says it
  }
  return error;
}

}  // namespace wubd::downloader
