#include "wubd/io/http_server.h"

#include <spdlog/spdlog.h>

#include "http_connection.h"
#include "wubd/io/lifetime.h"
#include "wubd/log/log.h"

namespace wubd::io {

const std::string* HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

HttpServer::HttpServer(uv_loop_t* loop, HttpHandler handler, const HttpLimits& limits)
    : loop_(loop), handler_(std::move(handler)), limits_(limits) {}

// Connections still open (a server torn down without close()) go with it: nothing of
// theirs is on the stack here.
HttpServer::~HttpServer() = default;

core::Result<bool> HttpServer::listen(const std::string& host, int port) {
  sockaddr_storage addr{};
  int rc = host.find(':') != std::string::npos ? uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr))
                                               : uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
  if (rc != 0) return core::make_error("bad listen address " + host + ": " + uv_err_name(rc));
  listener_.init(uv_tcp_init, loop_);
  listener_->data = this;
  rc = uv_tcp_bind(listener_.get(), reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(listener_.stream(), 511, on_connection_cb);
  if (rc != 0) {
    listener_.close();
    return core::make_error("cannot listen on " + host + ":" + std::to_string(port) + ": " + uv_strerror(rc));
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return true;
}

void HttpServer::on_connection_cb(uv_stream_t* listener, int status) noexcept {
  static_cast<HttpServer*>(listener->data)->on_connection(status);
}

void HttpServer::on_connection(int status) {
  if (status < 0) {
    log::logger(log::Module::Http).warn("listener error: {}", uv_err_name(status));
    return;
  }
  bool over_cap = connections_.size() >= limits_.max_connections;
  ConnectionOwner& owner = *this;
  connections_.push_back(std::make_unique<HttpConnection>(owner, loop_));
  HttpConnection* connection = connections_.back().get();
  if (!connection->accept(listener_.stream())) return;  // released already
  if (over_cap) {
    log::logger(log::Module::Http).warn("refusing a connection: {} open, the limit", limits_.max_connections);
    connection->reject_overloaded();
  } else if (closing_) {
    connection->close_when_idle();
  }
}

void HttpServer::report_to(core::MetricsRegistry& metrics) {
  core::GaugeFamily& open = metrics.gauge("wubd_http_connections", "Open HTTP connections.");
  refresh_ = metrics.add_refresh([this, &open] { open.set({}, double(connections_.size())); });
}

void HttpServer::observe(const HttpRequest& request, const ResponseRecord& record) {
  if (observer_) observer_(request, record);
}

void HttpServer::release(HttpConnection* connection) {
  for (auto it = connections_.begin(); it != connections_.end(); ++it) {
    if (it->get() != connection) continue;
    // Its callback is on the stack: freed on the next loop turn (lifetime.h, rule 3).
    defer_delete(loop_, std::move(*it));
    connections_.erase(it);
    break;
  }
  if (closing_ && connections_.empty() && on_closed_) std::exchange(on_closed_, nullptr)();
}

void HttpServer::close(std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  closing_ = true;
  listener_.close();
  // Closing a connection may release it, which edits the list: iterate over a copy.
  std::vector<HttpConnection*> open;
  for (auto& c : connections_) open.push_back(c.get());
  for (HttpConnection* c : open) c->close_when_idle();
  if (connections_.empty() && on_closed_) std::exchange(on_closed_, nullptr)();
}

void HttpServer::close_all_now() {
  std::vector<HttpConnection*> open;
  for (auto& c : connections_) open.push_back(c.get());
  for (HttpConnection* c : open) c->close();
}

}  // namespace wubd::io
