// The HTTP request path: bytes from a client, in random splits, into the real
// connection code (io::HttpServer) on a real loop over loopback. Never crashes, always
// closes after the client's EOF, and answers the same whether the bytes came whole
// or in pieces (a rule judged on one read but not across two is a bug).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>
#include <uv.h>

#include "fuzz_check.h"
#include "wubd/io/http_server.h"
#include "wubd/log/log.h"

namespace {

constexpr std::size_t kLongestInput = 8192;
constexpr int kPumpTurns = 4000;

// The handler tells back what the server understood, so that two runs can be compared.
void echo(const wubd::io::HttpRequest& request, wubd::io::HttpResponse& response) {
  std::string body = request.method + " " + request.path + " ? " + request.query + "\n";
  for (const auto& [name, value] : request.headers) body += name + ": " + value + "\n";
  body += "body " + std::to_string(request.body.size()) + "\n";
  response.send(200, "text/plain", std::move(body));
}

struct Server {
  uv_loop_t loop{};
  std::unique_ptr<wubd::io::HttpServer> http;
  int port = 0;
  Server() {
    std::signal(SIGPIPE, SIG_IGN);
    spdlog::set_level(spdlog::level::off);
    // The server's logger is made on first use, with the process's level: silence it
    // now, or every refused input prints a line.
    wubd::log::logger(wubd::log::Module::Http).set_level(spdlog::level::off);
    uv_loop_init(&loop);
    http = std::make_unique<wubd::io::HttpServer>(&loop, echo);
    FUZZ_CHECK(bool(http->listen("127.0.0.1", 0)), "cannot listen on 127.0.0.1");
    port = http->port();
  }
};

Server& server() {
  static Server* s = new Server();  // lives for the whole fuzzing run
  return *s;
}

void pump(int turns) {
  for (int i = 0; i < turns; ++i) uv_run(&server().loop, UV_RUN_NOWAIT);
}

// Everything the server sends back for `pieces` sent one read at a time, with the
// Date header's value blanked (it is the only thing that may differ between runs).
std::string exchange(const std::vector<std::string_view>& pieces) {
  // Each connection from the next address of 127.0.0.0/8: the client closes first, so
  // its side waits in TIME_WAIT, and thousands of inputs a second would run one
  // address out of ephemeral ports ("cannot connect" after ~20,000 inputs).
  static std::uint32_t next_client = 0;
  std::uint32_t client = 0x7f000002u + (next_client++ % 0xfff0u);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  from.sin_addr.s_addr = htonl(client);
  FUZZ_CHECK(::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0, "cannot bind a client address");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(std::uint16_t(server().port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // A refused connect is the machine's (a full accept queue, no port left), not the
  // server's: pump the loop and try again a while before calling it a failure.
  int connected = -1;
  for (int attempt = 0; attempt < 100 && connected != 0; ++attempt) {
    connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    if (connected != 0) {
      std::fprintf(stderr, "connect: %s\n", std::strerror(errno));
      pump(10);
      ::usleep(1000);
    }
  }
  FUZZ_CHECK(connected == 0, "cannot connect");
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  pump(3);  // accepted, reading
  std::string answer;
  char buffer[16384];
  auto drain = [&] {
    for (;;) {
      ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0) {
        answer.append(buffer, std::size_t(n));
        continue;
      }
      return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);  // closed?
    }
  };
  bool closed = false;
  for (std::string_view piece : pieces) {
    if (::send(fd, piece.data(), piece.size(), MSG_NOSIGNAL) < 0) break;  // the server closed already
    pump(3);                                                              // read as its own piece
    if ((closed = drain())) break;
  }
  if (!closed) ::shutdown(fd, SHUT_WR);
  for (int turn = 0; !closed && turn < kPumpTurns; ++turn) {
    pump(1);
    closed = drain();
  }
  ::close(fd);
  pump(3);  // the server's side closes and frees itself
  FUZZ_CHECK(closed, "the server left the connection open after the client's EOF");
  for (std::size_t at = answer.find("\r\nDate: "); at != std::string::npos; at = answer.find("\r\nDate: ", at + 1)) {
    std::size_t end = answer.find("\r\n", at + 2);
    answer.replace(at + 8, end - (at + 8), "-");
  }
  return answer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > kLongestInput) return 0;
  // The first byte seeds where the request is cut; the rest is the request.
  unsigned seed = data[0];
  std::string_view request(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string whole = exchange({request});
  std::vector<std::string_view> pieces;
  std::size_t at = 0;
  while (at < request.size()) {
    seed = seed * 1103515245u + 12345u;
    std::size_t length = 1 + (seed >> 16) % 16;
    pieces.push_back(request.substr(at, length));
    at += length;
  }
  if (pieces.size() < 2) return 0;
  std::string split = exchange(pieces);
  if (split != whole) {
    std::fprintf(stderr, "whole:\n%s\nin %zu pieces:\n%s\n", whole.c_str(), pieces.size(), split.c_str());
  }
  FUZZ_CHECK(split == whole, "the answer changed when the request came in pieces");
  return 0;
}
