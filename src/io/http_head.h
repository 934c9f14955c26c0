#pragma once

#include <string>
#include <string_view>

// The fixed parts of a response head: status texts, the Date header, the CORS headers
// every response carries. Private to io's HTTP server.
namespace wubd::io {

// RFC 9110's reason phrase for the statuses wubd sends.
std::string_view reason_phrase(int status);

// The Date header's value now; formatted once a second.
const std::string& http_date_now();

// Every response's CORS headers (as wubloader's restreamer sends them), each line ending in CRLF.
inline constexpr std::string_view kCorsHeaders =
    "Access-Control-Allow-Origin: *\r\n"
    "Access-Control-Allow-Credentials: false\r\n"
    "Access-Control-Allow-Headers: *\r\n"
    "Access-Control-Allow-Methods: GET,POST,HEAD\r\n"
    "Access-Control-Max-Age: 86400\r\n";

}  // namespace wubd::io
