// Twitch's PlaybackAccessToken as values: the request GQL gets and what its answers
// mean. In tests/io because it is built with the downloader (cJSON, simdjson).
#include "../../src/downloader/twitch_token.h"

#include <gtest/gtest.h>

namespace wubd::downloader {
namespace twitch_token_test {

TEST(TwitchToken, TheRequestCarriesTodaysVariablesAndTheOperatorsOwn) {
  TwitchConfig config;
  std::string persisted = token_request_body(config, "desertbus", false);
  for (const char* part :
       {R"("sha256Hash":"ed230aa1e33e07eebb8928504583da78a5173989fadfb1ac94be06a04f3cdbe9")", R"("login":"desertbus")",
        R"("playerType":"embed")", R"("platform":"site")", R"("isLive":true)"}) {
    EXPECT_NE(persisted.find(part), std::string::npos) << part << " in " << persisted;
  }
  EXPECT_EQ(persisted.find("\"query\""), std::string::npos);
  config.token_params = {{"platform", "android"}, {"isVod", "true"}, {"extra", "x"}};
  std::string with_query = token_request_body(config, "desertbus", true);
  EXPECT_NE(with_query.find("\"query\":\"query PlaybackAccessToken("), std::string::npos) << with_query;
  EXPECT_EQ(with_query.find("persistedQuery"), std::string::npos);
  EXPECT_NE(with_query.find(R"("platform":"android")"), std::string::npos) << with_query;
  EXPECT_NE(with_query.find(R"("isVod":true)"), std::string::npos) << with_query;
  EXPECT_NE(with_query.find(R"("extra":"x")"), std::string::npos) << with_query;
  EXPECT_EQ(with_query.find(R"("platform":"site")"), std::string::npos) << "replaced, not doubled";
}

TEST(TwitchToken, AnswersSayWhatTheyMean) {
  auto token =
      read_token_answer(200, R"({"data":{"streamPlaybackAccessToken":{"value":"{\"a\":1}","signature":"s"}}})");
  EXPECT_EQ(token.kind, TokenAnswer::Kind::Token);
  EXPECT_EQ(token.value, R"({"a":1})");
  EXPECT_EQ(token.signature, "s");
  auto rotted = read_token_answer(200, R"({"errors":[{"message":"PersistedQueryNotFound"}]})");
  EXPECT_EQ(rotted.kind, TokenAnswer::Kind::PersistedQueryNotFound);
  auto none = read_token_answer(200, R"({"data":{"streamPlaybackAccessToken":null}})");
  EXPECT_EQ(none.kind, TokenAnswer::Kind::NoSuchChannel);
  auto refused = read_token_answer(
      401, R"({"error":"Unauthorized","status":401,"message":"The \"Authorization\" token is invalid."})");
  EXPECT_EQ(refused.kind, TokenAnswer::Kind::Error);
  EXPECT_EQ(refused.message, R"(error: Unauthorized; message: The "Authorization" token is invalid.)");
  auto gql = read_token_answer(200, R"({"errors":[{"message":"service error"},{"message":"try later"}],"data":null})");
  EXPECT_EQ(gql.kind, TokenAnswer::Kind::Error);
  EXPECT_EQ(gql.message, "service error; try later");
  EXPECT_EQ(read_token_answer(502, "<html>bad gateway</html>").message,
            "GQL answered HTTP 502 with a body that is not a JSON object");
}

TEST(TwitchToken, LimitsAndUsherErrors) {
  auto limits =
      token_limits(R"({"maximum_resolution":"FULL_HD","maximum_video_bitrate_kbps":8500,"geoblock_reason":"","x":1})");
  EXPECT_EQ(limits, (std::vector<std::string>{"maximum_resolution FULL_HD", "maximum_video_bitrate_kbps 8500"}));
  auto geo = read_usher_error(
      R"([{"url":"https://usher/x","error":"Content Restricted In Region","error_code":"content_geoblocked","type":"error"}])");
  EXPECT_EQ(geo.code, "content_geoblocked");
  EXPECT_EQ(geo.message, "Content Restricted In Region");
  EXPECT_EQ(read_usher_error("not json").code, "");
}

TEST(TwitchToken, UsherUrlsLowerCaseAndVersion) {
  TwitchConfig config;
  EXPECT_EQ(config.usher_url_for("desertbus"), "https://usher.ttvnw.net/api/v2/channel/hls/desertbus.m3u8");
  config.usher_version = 1;
  EXPECT_EQ(config.usher_url_for("desertbus"), "https://usher.ttvnw.net/api/channel/hls/desertbus.m3u8");
  config.usher_url = "http://127.0.0.1:9/u/{channel}.m3u8";
  EXPECT_EQ(config.usher_url_for("x"), "http://127.0.0.1:9/u/x.m3u8");
}

}  // namespace twitch_token_test
}  // namespace wubd::downloader
