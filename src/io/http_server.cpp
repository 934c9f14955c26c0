#include "wubd/io/http_server.h"

#include <spdlog/spdlog.h>

#include "http_connection.h"
#include "wubd/app/logging.h"

namespace wubd::io {

const std::string* HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

HttpServer::HttpServer(uv_loop_t* loop, HttpHandler handler, HttpLimits limits)
    : loop_(loop), handler_(std::move(handler)), limits_(limits) {}

HttpServer::~HttpServer() = default;

core::Result<bool> HttpServer::listen(const std::string& host, int port) {
  sockaddr_storage addr{};
  int rc = host.find(':') != std::string::npos
               ? uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr))
               : uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
  if (rc != 0) return core::make_error("bad listen address " + host + ": " + uv_err_name(rc));
  uv_tcp_init(loop_, &listener_);
  listener_.data = this;
  listener_open_ = true;
  rc = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 511, on_connection_cb);
  if (rc != 0) {
    return core::make_error("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                            uv_strerror(rc));
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return true;
}

void HttpServer::on_connection_cb(uv_stream_t* listener, int status) noexcept {
  static_cast<HttpServer*>(listener->data)->on_connection(status);
}

void HttpServer::on_connection(int status) {
  if (status < 0) {
    app::logger("http")->warn("listener error: {}", uv_err_name(status));
    return;
  }
  bool over_cap = connections_.size() >= limits_.max_connections;
  connections_.push_back(std::make_unique<HttpConnection>(*this, loop_));
  HttpConnection* connection = connections_.back().get();
  connection->accept(reinterpret_cast<uv_stream_t*>(&listener_));
  if (over_cap) {
    app::logger("http")->warn("refusing a connection: {} open, the limit", limits_.max_connections);
    connection->reject_overloaded();
  } else if (closing_) {
    connection->close_when_idle();
  }
}

void HttpServer::on_connection_released(HttpConnection* connection) {
  // Called from the connection's last callback: hand it to the reaper, which frees
  // it after that callback has returned.
  for (auto it = connections_.begin(); it != connections_.end(); ++it) {
    if (it->get() == connection) {
      released_.push_back(std::move(*it));
      connections_.erase(it);
      break;
    }
  }
  if (!reaper_open_) {
    uv_idle_init(loop_, &reaper_);
    reaper_.data = this;
    reaper_open_ = true;
  }
  uv_idle_start(&reaper_, on_reap_cb);
}

void HttpServer::on_reap_cb(uv_idle_t* idle) noexcept {
  auto* self = static_cast<HttpServer*>(idle->data);
  self->released_.clear();
  uv_idle_stop(idle);
  self->maybe_finish_close();
}

void HttpServer::close(std::function<void()> on_closed) {
  on_closed_ = std::move(on_closed);
  closing_ = true;
  if (listener_open_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), on_listener_closed_cb);
  }
  // Closing a connection may release it, which edits the list: iterate over a copy.
  std::vector<HttpConnection*> open;
  for (auto& c : connections_) open.push_back(c.get());
  for (HttpConnection* c : open) c->close_when_idle();
  maybe_finish_close();
}

void HttpServer::close_all_now() {
  std::vector<HttpConnection*> open;
  for (auto& c : connections_) open.push_back(c.get());
  for (HttpConnection* c : open) c->close();
}

void HttpServer::on_listener_closed_cb(uv_handle_t* handle) noexcept {
  auto* self = static_cast<HttpServer*>(handle->data);
  self->listener_open_ = false;
  self->maybe_finish_close();
}

void HttpServer::on_reaper_closed_cb(uv_handle_t* handle) noexcept {
  auto* self = static_cast<HttpServer*>(handle->data);
  self->reaper_open_ = false;
  self->maybe_finish_close();
}

void HttpServer::maybe_finish_close() {
  if (!closing_ || listener_open_ || !connections_.empty()) return;
  if (!released_.empty()) return;  // the reaper runs first
  if (reaper_open_) {
    if (!reaper_closing_) {
      reaper_closing_ = true;
      uv_close(reinterpret_cast<uv_handle_t*>(&reaper_), on_reaper_closed_cb);
    }
    return;
  }
  if (on_closed_) {
    auto done = std::move(on_closed_);
    on_closed_ = nullptr;
    done();
  }
}

}  // namespace wubd::io
