#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wubd/downloader/downloader.h"

// Twitch's PlaybackAccessToken, as values: the GQL request's body and what its answer
// says. Twitch's own words (a GQL error, an {error, message} body) are kept verbatim
// for the log: when Twitch changes something, they are what tells an operator why.
namespace wubd::downloader {

// The GQL request for `login` (lower-cased by the caller): the persisted query by its
// hash, or, when Twitch no longer knows that hash (PersistedQueryNotFound), the query
// text itself. Variables: isLive, login, isVod, vodID, playerType, platform, then the
// configured extra parameters (which may replace any of them).
std::string token_request_body(const TwitchConfig& config, const std::string& login, bool with_query_text);

struct TokenAnswer {
  enum class Kind {
    Token,                   // value and signature
    NoSuchChannel,           // data.streamPlaybackAccessToken is null
    PersistedQueryNotFound,  // the hash is unknown: send the query text
    Error,                   // anything else; `message` says what
  };
  Kind kind = Kind::Error;
  std::string value;
  std::string signature;
  std::string message;  // Twitch's error messages, verbatim, or what was wrong with the answer
};

// Reads GQL's answer (its HTTP status and body).
TokenAnswer read_token_answer(long status, std::string_view body);

// What a token's value says limits this viewer ("maximum_resolution FULL_HD",
// "maximum_video_bitrate_kbps 8000", "geoblock_reason …"): for one log line.
std::vector<std::string> token_limits(std::string_view token_value);

// Usher's error body (a JSON list of {error, error_code}): the error code and the
// message, for an answer that is not a playlist.
struct UsherError {
  std::string code;     // "transcode_does_not_exist", "content_geoblocked", …; "" if none
  std::string message;  // Twitch's words
};
UsherError read_usher_error(std::string_view body);

}  // namespace wubd::downloader
