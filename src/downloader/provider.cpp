#include "provider.h"

#include <cJSON.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "twitch_token.h"
#include "wubd/core/hls_playlist.h"
#include "wubd/core/url.h"
#include "wubd/log/log.h"

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
  result.audio_only = core::audio_only(playlist->master);
  result.warnings = playlist->master.warnings;
  for (const auto& [id, value] : playlist->master.session_data) {
    // Twitch lists here the variants a logged-in viewer would get (above 1080p, say).
    if (id == "com.amazon.ivs.unavailable-media") result.withheld = value;
  }
  for (const core::HlsVariant& variant : playlist->master.variants) {
    auto resolved = io::resolve_url(url, variant.uri);
    if (!resolved) {
      log::logger(log::Module::Downloader).warn("skipping variant {}: {}", variant.name, resolved.error().message);
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
  ~HlsProvider() override { cancel_request(); }

  void fetch_master(std::function<void(MasterResult)> done) override {
    io::FetchRequest request;
    request.url = url_;
    request.headers = context_.headers;
    request_ = fetch_text(context_, std::move(request), DownloadContext::to_ms(context_.timings.playlist_hard_timeout),
                          [this, done = std::move(done)](const TextResult& text) {
                            request_ = io::RequestId::None;
                            done(read_master(url_, text));
                          });
  }

  void cancel() override { cancel_request(); }

  std::string describe() const override { return "hls " + url_; }

 private:
  // Not virtual: the destructor calls it too.
  void cancel_request() {
    if (request_ != io::RequestId::None) context_.client.cancel(request_);
    request_ = io::RequestId::None;
  }

  DownloadContext& context_;
  std::string url_;
  io::RequestId request_ = io::RequestId::None;
};

// Twitch: a GQL PlaybackAccessToken request, then the usher master playlist signed
// with the token. The channel is lower-cased for Twitch (login, usher path); the
// stream's directory keeps the operator's spelling.
class TwitchProvider : public Provider {
 public:
  TwitchProvider(DownloadContext& context, std::string channel)
      : context_(context), channel_(std::move(channel)), login_(lower(channel_)) {}
  ~TwitchProvider() override { cancel_request(); }

  void fetch_master(std::function<void(MasterResult)> done) override { request_token(std::move(done)); }

  void cancel() override { cancel_request(); }

  std::string describe() const override { return "twitch " + login_; }

 private:
  // Not virtual: the destructor calls it too.
  void cancel_request() {
    if (request_ != io::RequestId::None) context_.client.cancel(request_);
    request_ = io::RequestId::None;
  }

  static std::string lower(std::string text) {
    for (char& c : text) c = char(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }

  void request_token(std::function<void(MasterResult)> done) {
    const TwitchConfig& twitch = context_.twitch;
    io::FetchRequest request;
    request.url = twitch.gql_url;
    request.method = "POST";
    request.body = token_request_body(twitch, login_, send_query_text_);
    request.headers = context_.headers;
    request.headers.push_back("Client-ID: " + twitch.client_id);
    request.headers.push_back("Content-Type: application/json");
    // The operator's credentials go to GQL only.
    if (!twitch.oauth_token.empty()) request.headers.push_back("Authorization: OAuth " + twitch.oauth_token);
    request_ = fetch_text(context_, std::move(request), DownloadContext::to_ms(context_.timings.playlist_hard_timeout),
                          [this, done = std::move(done)](const TextResult& text) mutable {
                            request_ = io::RequestId::None;
                            on_token(text, std::move(done));
                          });
  }

  void on_token(const TextResult& text, std::function<void(MasterResult)> done) {
    MasterResult failed;
    if (!text.complete) {
      failed.timed_out = text.timed_out;
      failed.error = "access token request to " + context_.twitch.gql_url + " failed: " + text.error;
      return done(failed);
    }
    TokenAnswer answer = read_token_answer(text.status, text.body);
    switch (answer.kind) {
      case TokenAnswer::Kind::PersistedQueryNotFound:
        if (!send_query_text_) {
          // Persisted hashes rot: say so once, and ask with the query's text instead.
          send_query_text_ = true;
          log().warn(
              "twitch {}: GQL says \"{}\" for query hash {}; sending the query text instead "
              "(set --twitch-query-hash to a current one)",
              login_, answer.message, context_.twitch.query_hash);
          return request_token(std::move(done));
        }
        failed.error = "GQL: " + answer.message;
        return done(failed);
      case TokenAnswer::Kind::NoSuchChannel:
        if (!said_no_such_channel_) {
          said_no_such_channel_ = true;
          log().warn("twitch {}: no such channel (GQL returned no access token for login \"{}\")", login_, login_);
        }
        failed.kind = MasterResult::Kind::NotLive;
        failed.error = "no such channel";
        return done(failed);
      case TokenAnswer::Kind::Error:
        failed.error = "GQL (HTTP " + std::to_string(text.status) + "): " + answer.message;
        return done(failed);
      case TokenAnswer::Kind::Token:
        break;
    }
    said_no_such_channel_ = false;
    if (!said_limits_) {
      said_limits_ = true;
      std::vector<std::string> limits = token_limits(answer.value);
      if (!limits.empty())
        log().info("twitch {}: the access token limits this viewer: {}", login_, fmt::join(limits, ", "));
    }
    request_master(answer, std::move(done));
  }

  void request_master(const TokenAnswer& token, std::function<void(MasterResult)> done) {
    const TwitchConfig& twitch = context_.twitch;
    std::string url = twitch.usher_url_for(login_);
    url += url.find('?') == std::string::npos ? "?" : "&";
    url += "sig=" + core::percent_encode(token.signature) + "&token=" + core::percent_encode(token.value) +
           "&allow_source=true&allow_audio_only=true&fast_bread=true&supported_codecs=" +
           core::percent_encode(twitch.codecs) + "&p=" + std::to_string(context_.random() % 1000000);
    if (twitch.usher_version == 1) {
      url += "&player_type=" + core::percent_encode(twitch.player_type);
    } else {
      url += "&platform=web&playlist_include_framerate=true&player_backend=mediaplayer";
    }
    io::FetchRequest request;
    request.url = url;
    request.headers = context_.headers;
    request_ = fetch_text(context_, std::move(request), DownloadContext::to_ms(context_.timings.playlist_hard_timeout),
                          [this, url, done = std::move(done)](const TextResult& master) {
                            request_ = io::RequestId::None;
                            done(read_usher(url, master));
                          });
  }

  // Usher answers a playlist, or a JSON list saying why not.
  MasterResult read_usher(const std::string& url, const TextResult& text) {
    if (!text.complete || (text.status >= 200 && text.status < 300)) return read_master(url, text);
    UsherError error = read_usher_error(text.body);
    MasterResult result;
    std::string words = error.message.empty() ? "HTTP " + std::to_string(text.status) : error.message;
    if (error.code == "transcode_does_not_exist" || (error.code.empty() && text.status == 404)) {
      result.kind = MasterResult::Kind::NotLive;
      result.error = "usher: " + words;
      return result;
    }
    // Geoblocks, entitlements, bans: nothing a quick retry changes.
    result.kind = MasterResult::Kind::Refused;
    result.error = "usher refuses: " + words + (error.code.empty() ? "" : " (" + error.code + ")");
    return result;
  }

  static spdlog::logger& log() { return log::logger(log::Module::Downloader); }

  DownloadContext& context_;
  std::string channel_;
  std::string login_;
  io::RequestId request_ = io::RequestId::None;
  bool send_query_text_ = false;
  bool said_no_such_channel_ = false;
  bool said_limits_ = false;
};

}  // namespace

std::unique_ptr<Provider> make_provider(DownloadContext& context, const StreamConfig& stream) {
  if (stream.provider == "twitch") return std::make_unique<TwitchProvider>(context, stream.name);
  return std::make_unique<HlsProvider>(context, stream.url);
}

io::RequestId fetch_text(DownloadContext& context, io::FetchRequest request, std::uint64_t timeout_ms,
                         std::function<void(TextResult)> done) {
  request.total_timeout_ms = timeout_ms;
  return io::fetch_text(context.client, std::move(request), kMaxPlaylistBytes, std::move(done));
}

}  // namespace wubd::downloader
