#pragma once

#include <optional>
#include <string>
#include <utility>

#include "wubd/core/url.h"

// The fake origin's Twitch-like front as Twitch is in 2026: GQL's PlaybackAccessToken
// (the persisted query of the 2025-11-11 change, `platform` required, a query text
// accepted instead, PersistedQueryNotFound for a hash it does not know, a null token
// for a login that is not the channel's lower-cased name) and usher v1 and v2, with
// the JSON error bodies usher answers.
namespace wubd::fake_origin {

struct TwitchOptions {
  std::string channel = "fakechannel";  // as Twitch spells logins: lower case
  std::string query_hash = "ed230aa1e33e07eebb8928504583da78a5173989fadfb1ac94be06a04f3cdbe9";
  bool require_platform = true;
  // token (the normal answer), null (no such channel), unauthorized (401 with an
  // {error, message} body), gql-error (a GQL error message)
  std::string gql_answer = "token";
  // "" serves the master; offline (404 transcode_does_not_exist), geoblock (403),
  // entitlement (403) answer usher's JSON error instead.
  std::string usher_error;
};

struct Answer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class TwitchFront {
 public:
  explicit TwitchFront(TwitchOptions options) : options_(std::move(options)) {}

  // POST /gql with `body`; `expires` is the token's expiry (Unix seconds).
  Answer gql(const std::string& body, long long expires) const;

  // 1 or 2 for usher's master playlist paths of the channel, 0 for any other path.
  int usher_version(const std::string& path) const;

  // Usher's refusal of a request for the master playlist, if it refuses: a bad or
  // missing signature, v2 without platform=web, or the configured error.
  std::optional<Answer> usher_refusal(const core::QueryParams& params, int version) const;

  const TwitchOptions& options() const { return options_; }

 private:
  TwitchOptions options_;
};

}  // namespace wubd::fake_origin
