#pragma once

#include <string>

#include <uv.h>

namespace wubd::io {

// The address of a connected TCP peer as logs write it: `127.0.0.1:40212` or
// `[::1]:40212`; empty if the socket cannot tell.
std::string peer_name(const uv_tcp_t* tcp);

}  // namespace wubd::io
