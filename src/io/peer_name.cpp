#include "wubd/io/peer_name.h"

#include <arpa/inet.h>

namespace wubd::io {

std::string peer_name(const uv_tcp_t* tcp) {
  sockaddr_storage peer{};
  int length = sizeof peer;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&peer), &length) != 0) return {};
  char host[INET6_ADDRSTRLEN] = "";
  if (peer.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&peer);
    uv_ip6_name(v6, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(v6->sin6_port));
  }
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(&peer);
  uv_ip4_name(v4, host, sizeof host);
  return std::string(host) + ":" + std::to_string(ntohs(v4->sin_port));
}

}  // namespace wubd::io
