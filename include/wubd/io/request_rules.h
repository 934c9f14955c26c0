#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

// What a strict HTTP/1.1 server refuses (RFC 9110/9112, decided rule by rule against
// nginx's behaviour; README "HTTP API" lists them). Plain functions over the bytes the
// parser hands over, so each rule is unit-tested without a loop or a socket.
namespace wubd::io {

// A request the server answers itself, before any route: a status, a message naming
// the rule, and headers to add (each ending in CRLF).
struct Refusal {
  int status = 400;
  std::string message;
  std::string extra_headers;
};

// A header name with a space or tab in it: llhttp 8 keeps whitespace before the colon
// as part of the name, where RFC 9112 5.1 says a server MUST answer 400.
std::optional<Refusal> judge_header_name(std::string_view name);

// An HTTP/0.9 request line (`GET /`, no version): answered at once, whether the parser
// saw it alone or with header lines after it (fuzzing found the two answered apart).
Refusal http09_refusal();

// The version, Host and Transfer-Encoding rules of RFC 9112 (2.3, 3.2, 6.1), judged
// once the head is complete: HTTP/1.2 to 1.9 are 1.1, a major version other than 1 is
// 505 (a version that is not digit.digit never gets here: the parser's 400). Names
// are lower-cased.
std::optional<Refusal> judge_head(int http_major, int http_minor,
                                  const std::vector<std::pair<std::string, std::string>>& headers);

// The parser refused the method of a request; `method_start` is the request from its
// method's first byte, as far as it has arrived. A method that is a well-formed token
// (RFC 9110 9.1) but not one llhttp knows (lower case included: methods are
// case-sensitive, so `get` is not GET) is 405 naming the methods allowed; anything
// else is 400. Nullopt while the method may still go on: the answer must not depend on
// how the bytes were split into reads.
std::optional<Refusal> judge_unknown_method(std::string_view method_start);

// The request target in origin form: what the routes see.
struct OriginTarget {
  std::string path;   // before '?', still percent-encoded
  std::string query;  // after '?', without it
};

// RFC 9112 3.2: origin form (`/path?query`) as sent; absolute form
// (`http://host/path?query`, which a server MUST accept) reduced to its path and query;
// asterisk form (`*`) only for OPTIONS, whose path is then "*"; anything else 400.
std::variant<OriginTarget, Refusal> judge_target(std::string_view method, std::string_view target);

}  // namespace wubd::io
