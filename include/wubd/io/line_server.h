#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <uv.h>

#include "wubd/core/result.h"
#include "wubd/io/uv_handle.h"

// A server of text lines on a unix socket or a TCP port, for the operator's console
// (socat, nc, telnet). Every session is bounded: a line longer than `max_line` or
// more than `max_queued` bytes of answers the client does not read gets one error
// line and a disconnect, so a slow, silent or garbage-sending client costs the
// process a few kilobytes and never stalls the loop.
namespace wubd::io {

class LineServer;

// One connected client. Owned by its server; freed after it closes (never inside its
// own callbacks).
class LineSession {
 public:
  // Queues `text` (the caller adds newlines). Past `max_queued` unread bytes the
  // session is closed instead.
  void send(std::string_view text);
  // Closes after what is queued is written.
  void close();
  // "console#3 unix" or "console#3 127.0.0.1:40212": for log lines saying who asked.
  const std::string& name() const { return name_; }
  bool closing() const { return closing_; }

 private:
  friend class LineServer;
  union AnyStream {
    uv_pipe_t pipe;
    uv_tcp_t tcp;
  };
  LineSession(LineServer& server, std::uint64_t id) : server_(server), id_(id) {}
  void on_read(ssize_t nread, const uv_buf_t* buf);
  void close_now();
  uv_stream_t* stream() const { return handle_.stream(); }

  LineServer& server_;
  std::uint64_t id_;
  std::string name_;
  UvHandle<AnyStream> handle_;
  std::string pending_;  // bytes of an unfinished line
  bool closing_ = false;
};

class LineServer {
 public:
  struct Limits {
    std::size_t max_line = 4096;
    std::size_t max_queued = 1 << 20;
    std::size_t max_sessions = 16;
  };
  using OnOpen = std::function<void(LineSession&)>;
  using OnLine = std::function<void(LineSession&, std::string_view line)>;

  LineServer(uv_loop_t* loop, OnOpen on_open, OnLine on_line, const Limits& limits);
  LineServer(uv_loop_t* loop, OnOpen on_open, OnLine on_line)
      : LineServer(loop, std::move(on_open), std::move(on_line), Limits{}) {}
  ~LineServer();
  LineServer(const LineServer&) = delete;
  LineServer& operator=(const LineServer&) = delete;

  // `unix:/path` (created mode 0600; a stale socket left by a dead process is
  // replaced, a live one is an error) or `HOST:PORT` / `[V6]:PORT`. A TCP address
  // that is not loopback is refused unless `allow_remote`.
  core::Result<bool> listen(const std::string& address, bool allow_remote);
  // Stops listening, closes every session and removes the socket file.
  void close();

  std::size_t session_count() const { return sessions_.size(); }
  // The TCP port listened on (0 for a unix socket), after listen().
  int port() const { return port_; }

 private:
  friend class LineSession;
  static void on_connection(uv_stream_t* server, int status);
  void accept();
  void forget(std::uint64_t id);

  uv_loop_t* loop_;
  OnOpen on_open_;
  OnLine on_line_;
  Limits limits_;
  UvHandle<LineSession::AnyStream> listener_;
  bool is_unix_ = false;
  std::string unix_path_;
  int port_ = 0;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::unique_ptr<LineSession>> sessions_;
};

}  // namespace wubd::io
