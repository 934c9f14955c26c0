#include "wubd/io/request_rules.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace wubd::io {
namespace {

// RFC 9110 5.6.2: the characters of a token (methods, header names).
bool is_token_char(char ch) {
  auto c = static_cast<unsigned char>(ch);
  static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return std::isalnum(c) || kSpecials.find(char(c)) != std::string_view::npos;
}

// A method this long is judged (and named) without waiting for its end.
constexpr std::size_t kLongestMethod = 32;

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

Refusal http09_refusal() {
  return Refusal{505, "HTTP/0.9 is not supported: this server speaks HTTP/1.0 and HTTP/1.1", {}};
}

std::optional<Refusal> judge_head(int http_major, int http_minor,
                                  const std::vector<std::pair<std::string, std::string>>& headers) {
  if (http_major == 0 && http_minor == 9) return http09_refusal();
  // RFC 9110 6.2 / 9112 2.3, as nginx answers: a later minor version of HTTP/1 is
  // HTTP/1.1 to a 1.1 server (answered as 1.1, under 1.1's rules); another major
  // version is one this server does not speak.
  if (http_major != 1) {
    return Refusal{505,
                   "HTTP/" + std::to_string(http_major) + "." + std::to_string(http_minor) +
                       " is not supported: this server speaks HTTP/1.0 and HTTP/1.1",
                   {}};
  }
  std::size_t hosts = 0, transfer_encodings = 0;
  for (const auto& [name, value] : headers) {
    hosts += name == "host";
    transfer_encodings += name == "transfer-encoding";
  }
  if (http_minor >= 1 && hosts == 0) return Refusal{400, "missing Host header (HTTP/1.1 requires one)", {}};
  if (hosts > 1) return Refusal{400, "more than one Host header", {}};
  // Transfer-Encoding is not HTTP/1.0's (RFC 9112 6.1): on a 1.0 message it is a
  // request-smuggling attempt more often than not.
  if (http_minor == 0 && transfer_encodings > 0) return Refusal{400, "Transfer-Encoding in an HTTP/1.0 request", {}};
  return std::nullopt;
}

std::optional<Refusal> judge_unknown_method(std::string_view method_start) {
  std::size_t end = 0;
  while (end < method_start.size() && end < kLongestMethod && is_token_char(method_start[end])) ++end;
  bool cut_short = end == kLongestMethod;
  if (!cut_short && end == method_start.size()) return std::nullopt;  // more of the method may follow
  if (!cut_short && (end == 0 || method_start[end] != ' ')) {
    return Refusal{400, "malformed request line: the method is not a token", {}};
  }
  std::string_view method = method_start.substr(0, end);
  std::string message = "method " + std::string(method) + (cut_short ? "…" : "") + " not allowed; use GET or HEAD";
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
