#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <uv.h>

#include "wubd/core/metrics.h"
#include "wubd/core/result.h"
#include "wubd/io/http_response.h"
#include "wubd/io/uv_handle.h"

// An HTTP/1.1 server on a libuv loop, parsing with llhttp: keep-alive, pipelining
// (answered in order, one at a time), HEAD, sized, chunked and file bodies with
// backpressure, and limits that answer with a clear status instead of buffering.
namespace wubd::io {

struct HttpRequest;

struct HttpLimits {
  std::size_t max_header_bytes = 16 * 1024;  // request line excluded; over it: 431
  std::size_t max_url_bytes = 8 * 1024;      // over it: 414
  std::uint64_t idle_timeout_ms = 60'000;    // no bytes either way for this long: closed
  // A request's head must arrive whole within this of its first byte, and its body
  // within body_timeout_ms of the head, however the bytes trickle in (nginx's
  // client_header_timeout / client_body_timeout); over it: 408 and closed. The head's
  // deadline is never later than the idle timeout.
  std::uint64_t header_timeout_ms = 10'000;
  std::uint64_t body_timeout_ms = 30'000;
  // A request body longer than this is 413 and closed, unless `body_limit` allows
  // the request more (a route that takes an upload).
  std::uint64_t max_body_bytes = 64 * 1024;
  // The body limit of one request, judged on its head (method, path): the routes
  // that take a body (a thumbnail's template, a JSON request) allow more than the
  // default. Unset: max_body_bytes for every request.
  std::function<std::uint64_t(const HttpRequest& head)> body_limit;
  std::size_t max_connections = 1024;          // over it: 503 and closed
  std::size_t write_high_watermark = 1 << 20;  // stop producing body while more is queued
};

struct HttpRequest {
  std::string method;                                        // "GET", "HEAD", …
  std::string target;                                        // as sent: path and query
  std::string path;                                          // target before '?', still percent-encoded
  std::string query;                                         // target after '?', without it
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;                                          // at most the request's body limit (HttpLimits)
  bool keep_alive = true;
  std::string client;  // the peer's address, "127.0.0.1:40212" or "[::1]:40212", for access logs

  // The first header of that (lower-case) name, or nullptr.
  const std::string* header(std::string_view lower_name) const;
  bool is_head() const { return method == "HEAD"; }
};

// Called for every finished response, for metrics and access logs.
struct ResponseRecord {
  std::string_view method;
  std::string_view endpoint;  // the label the handler set, "other" if none
  int status = 0;
  double duration_seconds = 0;
  std::uint64_t body_bytes = 0;
  bool completed = true;  // false when the connection died before the end
};

// Answers one request: must hand `response` a body before it returns (http_response.h).
using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;
using ResponseObserver = std::function<void(const HttpRequest&, const ResponseRecord&)>;

class HttpConnection;

// What a connection needs of the server that owns it.
class ConnectionOwner {
 public:
  virtual const HttpLimits& limits() const = 0;
  virtual void handle(const HttpRequest& request, HttpResponse& response) = 0;
  virtual void observe(const HttpRequest& request, const ResponseRecord& record) = 0;
  // The connection is closed (from inside one of its callbacks): free it later.
  virtual void release(HttpConnection* connection) = 0;

 protected:
  ~ConnectionOwner() = default;
};

// Owns the listening socket and every accepted connection. Lives on one loop; not
// copyable. Destroy it only after close() has completed (its callback ran).
class HttpServer final : private ConnectionOwner {
 public:
  HttpServer(uv_loop_t* loop, HttpHandler handler, const HttpLimits& limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens on host:port (port 0 picks a free one; see port()).
  core::Result<bool> listen(const std::string& host, int port);
  int port() const { return port_; }

  void set_observer(ResponseObserver observer) { observer_ = std::move(observer); }

  // Stops accepting, closes idle connections at once and the others after their
  // current response; `on_closed` runs when the last connection is closed (at once if
  // there is none, else inside that connection's last callback: it must not destroy
  // the server).
  void close(std::function<void()> on_closed);
  // Closes every connection now, finished or not (a second SIGTERM).
  void close_all_now();

  std::size_t connection_count() const { return connections_.size(); }
  // Reports connection_count() in `metrics` (wubd_http_connections), refreshed before
  // each render; `metrics` must outlive the server.
  void report_to(core::MetricsRegistry& metrics);

 private:
  static void on_connection_cb(uv_stream_t* listener, int status) noexcept;
  void on_connection(int status);

  // ConnectionOwner
  const HttpLimits& limits() const override { return limits_; }
  void handle(const HttpRequest& request, HttpResponse& response) override { handler_(request, response); }
  void observe(const HttpRequest& request, const ResponseRecord& record) override;
  void release(HttpConnection* connection) override;

  uv_loop_t* loop_;
  HttpHandler handler_;
  HttpLimits limits_;
  ResponseObserver observer_;
  UvHandle<uv_tcp_t> listener_;
  bool closing_ = false;
  int port_ = 0;
  std::function<void()> on_closed_;
  std::list<std::unique_ptr<HttpConnection>> connections_;
  core::MetricsRegistry::Refresh refresh_;
};

}  // namespace wubd::io
