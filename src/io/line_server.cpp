#include "wubd/io/line_server.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "wubd/core/flag_values.h"
#include "wubd/io/lifetime.h"
#include "wubd/io/peer_name.h"
#include "wubd/io/uv_request.h"

namespace wubd::io {
namespace {

// One answer being written: its bytes live until the write's callback.
using Write = UvRequest<uv_write_t, std::string>;
using Shutdown = UvRequest<uv_shutdown_t>;

bool is_loopback(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
  }
  return false;
}

// A unix socket file nobody answers on (its process died) may be replaced; one that
// answers belongs to a running process.
bool socket_is_stale(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  bool refused = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 && errno == ECONNREFUSED;
  ::close(fd);
  return refused;
}

}  // namespace

LineServer::LineServer(uv_loop_t* loop, OnOpen on_open, OnLine on_line, const Limits& limits)
    : loop_(loop), on_open_(std::move(on_open)), on_line_(std::move(on_line)), limits_(limits) {}

LineServer::~LineServer() { close(); }

core::Result<bool> LineServer::listen(const std::string& address, bool allow_remote) {
  int rc = 0;
  if (address.rfind("unix:", 0) == 0) {
    is_unix_ = true;
    unix_path_ = address.substr(5);
    if (unix_path_.empty() || unix_path_.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return core::make_error("\"" + address + "\": a unix socket path of 1 to 107 bytes");
    }
    struct stat st;
    if (::lstat(unix_path_.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) return core::make_error("\"" + unix_path_ + "\" exists and is not a socket");
      if (!socket_is_stale(unix_path_))
        return core::make_error("\"" + unix_path_ + "\" is in use by a running process");
      ::unlink(unix_path_.c_str());
    }
    listener_.init([](uv_loop_t* loop, LineSession::AnyStream* s) { return uv_pipe_init(loop, &s->pipe, 0); }, loop_);
    // Created 0600: the console changes the running process, so only its user may connect.
    mode_t old_mask = ::umask(0177);
    rc = uv_pipe_bind(&listener_->pipe, unix_path_.c_str());
    ::umask(old_mask);
    if (rc == 0) ::chmod(unix_path_.c_str(), 0600);
  } else {
    auto parsed = core::parse_listen_address(address);
    if (!parsed) return core::make_error("\"" + address + "\": " + parsed.error().message);
    std::string host = parsed->host.empty() ? "0.0.0.0" : parsed->host;
    sockaddr_storage storage{};
    if (uv_ip4_addr(host.c_str(), parsed->port, reinterpret_cast<sockaddr_in*>(&storage)) != 0 &&
        uv_ip6_addr(host.c_str(), parsed->port, reinterpret_cast<sockaddr_in6*>(&storage)) != 0) {
      return core::make_error("\"" + address + "\": the host must be a numeric address (127.0.0.1, ::1)");
    }
    if (!is_loopback(storage) && !allow_remote) {
      return core::make_error("\"" + address +
                              "\" is not a loopback address: the console has no authentication; give "
                              "--console-allow-remote to listen there anyway");
    }
    listener_.init([](uv_loop_t* loop, LineSession::AnyStream* s) { return uv_tcp_init(loop, &s->tcp); }, loop_);
    rc = uv_tcp_bind(&listener_->tcp, reinterpret_cast<sockaddr*>(&storage), 0);
  }
  if (rc == 0) {
    listener_->pipe.data = this;  // the same uv_handle_t field either way
    rc = uv_listen(listener_.stream(), 16, &LineServer::on_connection);
  }
  if (rc != 0) {
    listener_.close();
    return core::make_error("\"" + address + "\": " + uv_strerror(rc));
  }
  if (!is_unix_) {
    sockaddr_storage bound{};
    int length = sizeof bound;
    uv_tcp_getsockname(&listener_->tcp, reinterpret_cast<sockaddr*>(&bound), &length);
    port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  return true;
}

void LineServer::close() {
  if (listener_) {
    listener_.close();
    if (is_unix_) ::unlink(unix_path_.c_str());
  }
  auto sessions = std::move(sessions_);
  sessions_.clear();
  for (auto& [id, session] : sessions) {
    session->close_now();  // not in the map any more: forget() leaves it to us
    defer_delete(loop_, std::move(session));
  }
}

void LineServer::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<LineServer*>(server->data);
  if (self && status == 0) self->accept();
}

void LineServer::accept() {
  std::uint64_t id = next_id_++;
  auto session = std::unique_ptr<LineSession>(new LineSession(*this, id));
  if (is_unix_) {
    session->handle_.init([](uv_loop_t* loop, LineSession::AnyStream* s) { return uv_pipe_init(loop, &s->pipe, 0); },
                          loop_);
  } else {
    session->handle_.init([](uv_loop_t* loop, LineSession::AnyStream* s) { return uv_tcp_init(loop, &s->tcp); }, loop_);
  }
  if (uv_accept(listener_.stream(), session->stream()) != 0) return;
  session->name_ = "console#" + std::to_string(id);
  if (is_unix_) {
    session->name_ += " unix";
  } else {
    session->name_ += " " + peer_name(&session->handle_->tcp);
  }
  LineSession& s = *session;
  // Before anything is written: a write's or shutdown's callback finds the session here.
  s.handle_->pipe.data = &s;
  if (sessions_.size() >= limits_.max_sessions) {
    s.send("error: too many console sessions (" + std::to_string(limits_.max_sessions) + "); try again later\n");
    s.close();
    sessions_.emplace(id, std::move(session));
    return;
  }
  uv_read_start(
      s.stream(),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        // One buffer per loop thread: lines are copied out before the next read.
        static char chunk[16 * 1024];
        *buf = uv_buf_init(chunk, sizeof chunk);
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        if (auto* session = static_cast<LineSession*>(stream->data)) session->on_read(nread, buf);
      });
  sessions_.emplace(id, std::move(session));
  if (on_open_) on_open_(s);
}

void LineServer::forget(std::uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  // Possibly inside the session's own callback: freed on the next loop turn.
  defer_delete(loop_, std::move(it->second));
  sessions_.erase(it);
}

void LineSession::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (nread < 0) {
    close_now();
    return;
  }
  std::string_view bytes(buf->base, std::size_t(nread));
  while (!bytes.empty() && !closing_) {
    std::size_t newline = bytes.find('\n');
    if (newline == std::string_view::npos) {
      pending_.append(bytes);
      break;
    }
    pending_.append(bytes.substr(0, newline));
    bytes.remove_prefix(newline + 1);
    if (pending_.size() > server_.limits_.max_line) break;  // refused below
    std::string line = std::move(pending_);
    pending_.clear();
    if (!line.empty() && line.back() == '\r') line.pop_back();
    server_.on_line_(*this, line);
  }
  if (pending_.size() > server_.limits_.max_line && !closing_) {
    send("error: line longer than " + std::to_string(server_.limits_.max_line) + " bytes; closing\n");
    pending_.clear();
    close();
  }
}

void LineSession::send(std::string_view text) {
  if (closing_ || !handle_ || text.empty()) return;
  if (uv_stream_get_write_queue_size(stream()) + text.size() > server_.limits_.max_queued) {
    // The client does not read what it asked for: it gets no more.
    close_now();
    return;
  }
  auto write = Write::make();
  write->payload.assign(text);
  uv_buf_t buf = uv_buf_init(write->payload.data(), unsigned(write->payload.size()));
  int rc = Write::submit(std::move(write), [&](uv_write_t* req) {
    return uv_write(req, stream(), &buf, 1, [](uv_write_t* done, int) { Write::from(done); });
  });
  if (rc != 0) close_now();
}

void LineSession::close() {
  if (closing_ || !handle_) return;
  closing_ = true;
  uv_read_stop(stream());
  // A shutdown lets the queued answers go out before the close.
  int rc = Shutdown::submit(Shutdown::make(), [&](uv_shutdown_t* shutdown) {
    return uv_shutdown(shutdown, stream(), [](uv_shutdown_t* req, int) {
      auto done = Shutdown::from(req);
      // Null once the session closed its handle (and maybe was freed) meanwhile.
      if (auto* session = static_cast<LineSession*>(req->handle->data)) session->close_now();
    });
  });
  if (rc != 0) close_now();
}

void LineSession::close_now() {
  closing_ = true;
  if (handle_) handle_.close();
  server_.forget(id_);
}

}  // namespace wubd::io
