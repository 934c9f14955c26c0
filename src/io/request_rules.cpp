#include "wubd/io/request_rules.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace wubd::io {
namespace {

// RFC 9110 5.6.2: the characters of a token (methods, header names).
bool is_token_char(unsigned char c) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return std::isalnum(c) || kSpecials.find(char(c)) != std::string_view::npos;
}

constexpr std::size_t kLongestMethodNamed = 32;

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return char(std::toupper(c)); });
  return out;
}

}  // namespace

std::optional<Refusal> judge_header_name(std::string_view name) {
  if (name.find_first_of(" \t") == std::string_view::npos) return std::nullopt;
  std::string_view trimmed = name.substr(0, name.find_first_of(" \t"));
  return Refusal{400, "whitespace between the header name " + std::string(trimmed) + " and its colon", {}};
}

std::optional<Refusal> judge_head(int http_major, int http_minor,
                                  const std::vector<std::pair<std::string, std::string>>& headers) {
  if (http_major != 1 || http_minor > 1) {
    return Refusal{505, "HTTP version not supported: this server speaks HTTP/1.0 and HTTP/1.1", {}};
  }
  std::size_t hosts = 0, transfer_encodings = 0;
  for (const auto& [name, value] : headers) {
    hosts += name == "host";
    transfer_encodings += name == "transfer-encoding";
  }
  if (http_minor == 1 && hosts == 0) return Refusal{400, "missing Host header (HTTP/1.1 requires one)", {}};
  if (hosts > 1) return Refusal{400, "more than one Host header", {}};
  // Transfer-Encoding is not HTTP/1.0's (RFC 9112 6.1): on a 1.0 message it is a
  // request-smuggling attempt more often than not.
  if (http_minor == 0 && transfer_encodings > 0) return Refusal{400, "Transfer-Encoding in an HTTP/1.0 request", {}};
  return std::nullopt;
}

Refusal judge_unknown_method(std::string_view input) {
  // llhttp skips empty lines before a request line (RFC 9112 2.2); so do we.
  input.remove_prefix(std::min(input.size(), input.find_first_not_of("\r\n")));
  std::size_t space = input.find(' ');
  std::string_view method = input.substr(0, space);
  bool token = space != std::string_view::npos && space > 0 &&
               std::all_of(method.begin(), method.end(), [](unsigned char c) { return is_token_char(c); });
  if (!token) return Refusal{400, "malformed request line: the method is not a token", {}};
  std::string named(method.substr(0, kLongestMethodNamed));
  std::string message = "method " + named + " not allowed; use GET or HEAD";
  std::string as_upper = upper(method);
  if (as_upper != method && (as_upper == "GET" || as_upper == "HEAD" || as_upper == "OPTIONS")) {
    message += " (methods are case-sensitive)";
  }
  return Refusal{405, std::move(message), "Allow: GET, HEAD, OPTIONS\r\n"};
}

std::variant<OriginTarget, Refusal> judge_target(std::string_view method, std::string_view target) {
  auto origin = [](std::string_view path_and_query) {
    std::size_t question = path_and_query.find('?');
    OriginTarget out;
    out.path = std::string(path_and_query.substr(0, question));
    if (question != std::string_view::npos) out.query = std::string(path_and_query.substr(question + 1));
    return out;
  };
  if (!target.empty() && target.front() == '/') return origin(target);
  if (target == "*") {
    if (method == "OPTIONS") return OriginTarget{"*", {}};
    return Refusal{400, "the asterisk-form target * is only for OPTIONS", {}};
  }
  // Absolute form. curl's URL parser checks the scheme and authority; the path is taken
  // as sent (CURLU_PATH_AS_IS) so that the routes judge a `..` in it, as in origin form.
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> url(curl_url(), curl_url_cleanup);
  std::string text(target);
  if (!url || curl_url_set(url.get(), CURLUPART_URL, text.c_str(), CURLU_PATH_AS_IS) != CURLUE_OK) {
    return Refusal{400, "bad request target: neither a path starting with / nor an absolute http URL", {}};
  }
  char* scheme = nullptr;
  char* path = nullptr;
  char* query = nullptr;
  curl_url_get(url.get(), CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(url.get(), CURLUPART_PATH, &path, 0);
  curl_url_get(url.get(), CURLUPART_QUERY, &query, 0);
  std::string scheme_text = scheme ? scheme : "";
  OriginTarget out{path ? path : "/", query ? query : ""};
  curl_free(scheme);
  curl_free(path);
  curl_free(query);
  if (scheme_text != "http" && scheme_text != "https") {
    return Refusal{400, "bad request target: an absolute URL must be http or https", {}};
  }
  return out;
}

}  // namespace wubd::io
