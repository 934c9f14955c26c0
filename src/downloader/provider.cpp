#include "provider.h"

#include <cJSON.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "wubd/app/logging.h"
#include "wubd/core/hls_playlist.h"
#include "wubd/core/url.h"

namespace wubd::downloader {
namespace {

// Reads a master playlist body: variants of a master, or `source` for a bare media
// playlist. A 404 means the stream is not live.
MasterResult read_master(const std::string& url, const TextResult& text) {
  MasterResult result;
  if (text.status == 404) {
    result.kind = MasterResult::Kind::NotLive;
    result.error = "404 from " + url;
    return result;
  }
  if (!text.complete || text.status < 200 || text.status >= 300) {
    result.timed_out = text.timed_out;
    result.error = text.status && text.complete ? "HTTP " + std::to_string(text.status) + " from " + url
                                                : text.error + " (" + url + ")";
    return result;
  }
  auto playlist = core::parse_playlist(text.body);
  if (!playlist) {
    result.error = "bad master playlist from " + url + ": " + playlist.error().message;
    return result;
  }
  if (playlist->kind == core::PlaylistKind::Media) {
    result.kind = MasterResult::Kind::Ok;
    result.variants.emplace_back("source", url);
    return result;
  }
  result.source_ambiguous = playlist->master.source_ambiguous;
  for (const core::HlsVariant& variant : playlist->master.variants) {
    auto resolved = io::resolve_url(url, variant.uri);
    if (!resolved) {
      app::logger("downloader")->warn("skipping variant {}: {}", variant.name, resolved.error().message);
      continue;
    }
    result.variants.emplace_back(variant.name, std::move(*resolved));
  }
  result.kind = MasterResult::Kind::Ok;
  return result;
}

class HlsProvider : public Provider {
 public:
  HlsProvider(DownloadContext& context, std::string url) : context_(context), url_(std::move(url)) {}
  ~HlsProvider() override { cancel(); }

  void fetch_master(std::function<void(MasterResult)> done) override {
    io::FetchRequest request;
    request.url = url_;
    request.headers = context_.headers;
    transfer_ = fetch_text(context_, std::move(request), DownloadContext::to_ms(context_.timings.playlist_hard_timeout),
                           [this, done = std::move(done)](TextResult text) {
                             transfer_ = 0;
                             done(read_master(url_, text));
                           });
  }

  void cancel() override {
    if (transfer_) context_.client.cancel(transfer_);
    transfer_ = 0;
  }

  std::string describe() const override { return "hls " + url_; }

 private:
  DownloadContext& context_;
  std::string url_;
  io::TransferId transfer_ = 0;
};

// Twitch: a GQL PlaybackAccessToken request, then the usher master playlist signed
// with the token.
class TwitchProvider : public Provider {
 public:
  TwitchProvider(DownloadContext& context, std::string channel) : context_(context), channel_(std::move(channel)) {}
  ~TwitchProvider() override { cancel(); }

  void fetch_master(std::function<void(MasterResult)> done) override {
    const TwitchConfig& twitch = context_.twitch;
    io::FetchRequest request;
    request.url = twitch.gql_url;
    request.method = "POST";
    request.body = token_request_body();
    request.headers = context_.headers;
    request.headers.push_back("Client-ID: " + twitch.client_id);
    request.headers.push_back("Content-Type: application/json");
    transfer_ = fetch_text(context_, std::move(request), DownloadContext::to_ms(context_.timings.playlist_hard_timeout),
                           [this, done = std::move(done)](TextResult text) mutable {
                             transfer_ = 0;
                             on_token(text, std::move(done));
                           });
  }

  void cancel() override {
    if (transfer_) context_.client.cancel(transfer_);
    transfer_ = 0;
  }

  std::string describe() const override { return "twitch " + channel_; }

 private:
  std::string token_request_body() const {
    cJSON* root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "operationName", "PlaybackAccessToken");
    cJSON* extensions = cJSON_AddObjectToObject(root, "extensions");
    cJSON* persisted = cJSON_AddObjectToObject(extensions, "persistedQuery");
    cJSON_AddNumberToObject(persisted, "version", 1);
    cJSON_AddStringToObject(persisted, "sha256Hash", context_.twitch.query_hash.c_str());
    cJSON* variables = cJSON_AddObjectToObject(root, "variables");
    cJSON_AddBoolToObject(variables, "isLive", true);
    cJSON_AddStringToObject(variables, "login", channel_.c_str());
    cJSON_AddBoolToObject(variables, "isVod", false);
    cJSON_AddStringToObject(variables, "vodID", "");
    cJSON_AddStringToObject(variables, "playerType", context_.twitch.player_type.c_str());
    char* text = cJSON_PrintUnformatted(root);
    std::string body = text ? text : "{}";
    cJSON_free(text);
    cJSON_Delete(root);
    return body;
  }

  void on_token(const TextResult& text, std::function<void(MasterResult)> done) {
    MasterResult failed;
    if (!text.complete || text.status != 200) {
      failed.timed_out = text.timed_out;
      failed.error = "access token request to " + context_.twitch.gql_url + " failed: " +
                     (text.complete ? "HTTP " + std::to_string(text.status) : text.error);
      return done(failed);
    }
    simdjson::ondemand::parser parser;
    simdjson::padded_string json(text.body);
    simdjson::ondemand::document doc;
    std::string_view token, signature;
    auto error = parser.iterate(json).get(doc);
    simdjson::ondemand::object access;
    if (!error) error = doc["data"]["streamPlaybackAccessToken"].get_object().get(access);
    if (!error) error = access["value"].get_string().get(token);
    std::string token_copy(token);
    if (!error) error = access["signature"].get_string().get(signature);
    if (error) {
      failed.error = "no access token for " + channel_ + " in the GQL answer (" + simdjson::error_message(error) + ")";
      return done(failed);
    }
    const TwitchConfig& twitch = context_.twitch;
    std::string url = twitch.usher_url;
    if (std::size_t at = url.find("{channel}"); at != std::string::npos) url.replace(at, 9, core::percent_encode(channel_));
    url += url.find('?') == std::string::npos ? "?" : "&";
    url += "sig=" + core::percent_encode(signature) + "&token=" + core::percent_encode(token_copy) +
           "&allow_source=true&allow_audio_only=true&fast_bread=true&player_type=" +
           core::percent_encode(twitch.player_type) + "&supported_codecs=" + core::percent_encode(twitch.codecs) +
           "&p=" + std::to_string(context_.random() % 1000000);
    io::FetchRequest request;
    request.url = url;
    request.headers = context_.headers;
    transfer_ = fetch_text(context_, std::move(request), DownloadContext::to_ms(context_.timings.playlist_hard_timeout),
                           [this, url, done = std::move(done)](TextResult master) {
                             transfer_ = 0;
                             done(read_master(url, master));
                           });
  }

  DownloadContext& context_;
  std::string channel_;
  io::TransferId transfer_ = 0;
};

}  // namespace

std::unique_ptr<Provider> make_provider(DownloadContext& context, const StreamConfig& stream) {
  if (stream.provider == "twitch") return std::make_unique<TwitchProvider>(context, stream.name);
  return std::make_unique<HlsProvider>(context, stream.url);
}

io::TransferId fetch_text(DownloadContext& context, io::FetchRequest request, std::uint64_t timeout_ms,
                          std::function<void(TextResult)> done) {
  request.total_timeout_ms = timeout_ms;
  return io::fetch_text(context.client, std::move(request), kMaxPlaylistBytes, std::move(done));
}

}  // namespace wubd::downloader
