#pragma once

#include <string>

// `wubd inspect-playlist FILE|URL [--base-uri URI]`: what the parser understands of
// one playlist, as JSON on stdout, so operators can see what an origin sends.
namespace wubd::downloader {

// Reads `source` (an http(s) URL, fetched on a private loop, or a file path),
// parses it and prints JSON. Relative URIs are resolved against `base_uri`, else
// against the URL it came from; a file without a base keeps them as written.
// Returns the process exit code: 0, or 1 with the error on stderr.
int inspect_playlist(const std::string& source, const std::string& base_uri);

}  // namespace wubd::downloader
