#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "wubd/core/result.h"

// Percent-encoding for the HTTP API's paths and queries. Hand-written because core
// must not depend on curl (whose curl_easy_escape wants a handle anyway) and the
// decoding has to report malformed escapes as client errors, not skip them.
namespace wubd::core {

// Decodes %XX escapes. A `%` not followed by two hex digits is an error.
// `+` stays `+`: times in queries carry literal `+HH:MM` offsets.
Result<std::string> percent_decode(std::string_view text);

// Escapes everything but RFC 3986 unreserved characters, so the result is safe as
// one path segment or one query value.
std::string percent_encode(std::string_view text);

// Appends percent_encode(text) to `out` without temporaries.
void append_percent_encoded(std::string& out, std::string_view text);

// Writes percent_encode(text) at `out`, which must have room for 3 * text.size()
// bytes, and returns the end of what it wrote. For writers that size a buffer once.
char* put_percent_encoded(char* out, std::string_view text);

// Query parameters, decoded. A repeated name keeps its first value; parameters the
// API does not know are ignored by the handlers, as Flask did.
using QueryParams = std::map<std::string, std::string, std::less<>>;

// Parses `a=1&b=2` (without the `?`); an error names the bad parameter.
Result<QueryParams> parse_query(std::string_view query);

// Every value of a parameter that may repeat (`range=…&range=…`), decoded, in order.
Result<std::vector<std::string>> query_values(std::string_view query, std::string_view name);

}  // namespace wubd::core
