#include "http_connection.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

#include <spdlog/spdlog.h>

#include "wubd/app/logging.h"
#include "wubd/core/time.h"

namespace wubd::io {
namespace {

// Input buffered beyond this while a response is in progress stops reading, so a
// client pipelining faster than we answer is held back by TCP instead of memory.
constexpr std::size_t kMaxBufferedInput = 64 * 1024;

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
  }
  return status < 400 ? "OK" : "Error";
}

// The Date header changes once a second; format it once a second.
const std::string& http_date_now() {
  static std::time_t cached_second = -1;
  static std::string cached;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    cached_second = now;
    cached = core::format_http_date(core::Micros(now) * core::kMicrosPerSecond);
  }
  return cached;
}

constexpr std::string_view kCorsHeaders =
    "Access-Control-Allow-Origin: *\r\n"
    "Access-Control-Allow-Credentials: false\r\n"
    "Access-Control-Allow-Headers: *\r\n"
    "Access-Control-Allow-Methods: GET,POST,HEAD\r\n"
    "Access-Control-Max-Age: 86400\r\n";

HttpConnection* owner(llhttp_t* parser) { return static_cast<HttpConnection*>(parser->data); }

// One shared read buffer: libuv calls alloc and read back to back for one stream, and
// on_read copies what it keeps, so a thousand idle connections cost no buffers.
char g_read_buffer[64 * 1024];

}  // namespace

HttpConnection::HttpConnection(HttpServer& server, uv_loop_t* loop) : server_(server), loop_(loop) {
  llhttp_init(&parser_, HTTP_REQUEST, &parser_settings());
  parser_.data = this;
}

void HttpConnection::accept(uv_stream_t* listener) {
  uv_tcp_init(loop_, &tcp_);
  tcp_.data = this;
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  open_handles_ = 2;
  int rc = uv_accept(listener, reinterpret_cast<uv_stream_t*>(&tcp_));
  if (rc != 0) {
    app::logger("http")->warn("accept failed: {}", uv_err_name(rc));
    close();
    return;
  }
  // Keep-alive responses must not wait for the client's delayed ACK.
  uv_tcp_nodelay(&tcp_, 1);
  touch();
  start_reading();
}

void HttpConnection::reject_overloaded() {
  if (closing_) return;
  send_canned_and_close(503, "too many connections, try again later", "Retry-After: 1\r\n");
}

// A plain-text answer outside any handler (overload, unparseable request), then
// close once it is written.
void HttpConnection::send_canned_and_close(int status, std::string_view message,
                                           std::string_view extra_headers) {
  keep_alive_ = false;
  std::string body = std::string(message) + "\n";
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason_phrase(status)) +
                     "\r\nContent-Type: text/plain; charset=utf-8\r\n" + std::string(extra_headers) +
                     "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" +
                     std::string(kCorsHeaders) + "\r\n";
  queue_write(std::move(head), std::move(body));
  shutdown_and_close();
}

void HttpConnection::start_reading() {
  if (reading_ || closing_ || peer_done_) return;
  if (uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc_cb, on_read_cb) == 0) reading_ = true;
}

void HttpConnection::touch() {
  last_activity_ = uv_now(loop_);
  arm_timer();
}

void HttpConnection::arm_timer() {
  if (closing_) return;
  std::uint64_t timeout = server_.limits_.idle_timeout_ms;
  if (request_deadline_ != 0 && !response_active_) {
    std::uint64_t now = uv_now(loop_);
    timeout = std::min(timeout, request_deadline_ > now ? request_deadline_ - now : 0);
  }
  uv_timer_start(&timer_, on_timer_cb, timeout, 0);
}

void HttpConnection::on_alloc_cb(uv_handle_t*, size_t, uv_buf_t* buf) noexcept {
  *buf = uv_buf_init(g_read_buffer, sizeof g_read_buffer);
}

void HttpConnection::on_read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  static_cast<HttpConnection*>(stream->data)->on_read(nread, buf);
}

void HttpConnection::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0) return;
  if (nread < 0) {
    // EOF during a sized or file response: the client may only have shut down its
    // side and still want the answer. During a stream it means the client hung up,
    // and the producer (an ffmpeg child, say) must hear of it now, not at its next
    // write. Anything else means the client is gone.
    if (nread == UV_EOF && response_active_ && !streaming_) {
      peer_done_ = true;
      close_after_response_ = true;
      uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
      reading_ = false;
      return;
    }
    close();
    return;
  }
  touch();
  input_.append(buf->base, size_t(nread));
  drain_input();
  arm_timer();  // a request may have begun or completed: its deadline moved
}

// Parses buffered input, dispatching each complete request in turn, until the input
// runs out or a response is in progress. Re-entrant calls (a response that finishes
// synchronously inside dispatch) return at once; the outer loop carries on.
void HttpConnection::drain_input() {
  if (draining_) return;
  draining_ = true;
  while (!closing_ && !response_active_ && !input_.empty() && parse_error_status_ == 0) {
    llhttp_errno_t err = llhttp_execute(&parser_, input_.data(), input_.size());
    if (err == HPE_OK) {
      input_.clear();
      break;
    }
    if (err == HPE_PAUSED) {
      size_t consumed = size_t(llhttp_get_error_pos(&parser_) - input_.data());
      llhttp_resume(&parser_);
      input_.erase(0, consumed);
      dispatch();
      continue;
    }
    if (parse_error_status_ != 0) {  // a callback refused the request (HPE_USER, or headers' -1)
      respond_parse_error(parse_error_status_, parse_error_status_ == 414   ? "request URL too long"
                                               : parse_error_status_ == 413 ? "request body too large (no route takes one)"
                                                                            : "request header fields too large");
    } else {
      parse_error_status_ = 400;
      respond_parse_error(400, std::string("malformed request: ") + llhttp_get_error_reason(&parser_));
    }
    break;
  }
  draining_ = false;
  if (closing_) return;
  if (response_active_ && input_.size() > kMaxBufferedInput && reading_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    reading_ = false;
  } else if (!reading_ && input_.size() <= kMaxBufferedInput && !close_after_response_) {
    start_reading();
  }
}

void HttpConnection::respond_parse_error(int status, std::string_view message) {
  app::logger("http")->info("refusing request: {} ({})", message, status);
  input_.clear();
  if (server_.observer_) {
    ResponseRecord record{"", "other", status, 0, 0, true};
    server_.observer_(request_, record);
  }
  send_canned_and_close(status, message, {});
}

void HttpConnection::dispatch() {
  response_ = std::make_unique<HttpResponse>(*this);
  response_active_ = true;
  chunked_ = false;
  streaming_ = false;
  body_bytes_ = 0;
  keep_alive_ = request_.keep_alive && !close_after_response_;
  request_started_ns_ = uv_hrtime();
  try {
    server_.handler_(request_, *response_);
  } catch (const std::exception& e) {
    // Handlers report errors as responses; an exception here is a bug, but it must
    // not cross libuv's C frames.
    app::logger("http")->error("handler threw for {} {}: {}", request_.method, request_.target, e.what());
    if (response_active_ && !response_->started_) response_->send_error(500, "internal error");
  }
}

void HttpConnection::send_head(HttpResponse& response, std::string_view content_type,
                               std::optional<std::int64_t> content_length) {
  std::string head;
  head.reserve(512);
  head += "HTTP/1.1 ";
  head += std::to_string(response.status_);
  head += ' ';
  head += reason_phrase(response.status_);
  head += "\r\n";
  if (!content_type.empty()) {
    head += "Content-Type: ";
    head += content_type;
    head += "\r\n";
  }
  for (const auto& [name, value] : response.headers_) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  streaming_ = !content_length;
  if (content_length) {
    head += "Content-Length: ";
    head += std::to_string(*content_length);
    head += "\r\n";
  } else if (parser_.http_major == 1 && parser_.http_minor == 0) {
    // HTTP/1.0 has no chunked coding: the body ends when the connection does.
    keep_alive_ = false;
  } else {
    chunked_ = true;
    head += "Transfer-Encoding: chunked\r\n";
  }
  head += "Date: ";
  head += http_date_now();
  head += "\r\nConnection: ";
  head += keep_alive_ ? "keep-alive" : "close";
  head += "\r\n";
  head += kCorsHeaders;
  head += "\r\n";
  // Held back until the first body bytes, so both leave in one write (one packet for
  // a small response).
  pending_head_ = std::move(head);
}

void HttpConnection::flush_head() {
  if (!pending_head_.empty()) queue_write(std::move(pending_head_), {});
  pending_head_.clear();
}

void HttpConnection::send_body(std::string body) {
  if (!request_.is_head() && !body.empty()) {
    body_bytes_ += body.size();
    queue_write(std::move(body), {});
  }
  finish_response(false);
}

void HttpConnection::send_shared_body(std::shared_ptr<const std::string> body) {
  if (!request_.is_head() && !body->empty()) {
    body_bytes_ += body->size();
    auto* w = new WriteRequest;
    const std::string& bytes = *body;
    w->shared = std::move(body);
    queue_borrowed_write(w, bytes.data(), bytes.size());
  }
  finish_response(false);
}

// Queues bytes owned elsewhere (kept alive by `w`) behind the pending head, if any.
// Takes ownership of `w`. False if the write could not be queued (the connection
// is then closing).
bool HttpConnection::queue_borrowed_write(WriteRequest* w, const char* data, size_t length) {
  if (closing_) {
    delete w;
    return false;
  }
  w->connection = this;
  w->parts[0] = std::move(pending_head_);
  pending_head_.clear();
  uv_buf_t bufs[2] = {uv_buf_init(w->parts[0].data(), unsigned(w->parts[0].size())),
                      uv_buf_init(const_cast<char*>(data), unsigned(length))};
  w->req.data = w;
  bool with_head = !w->parts[0].empty();
  int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), with_head ? bufs : bufs + 1,
                    with_head ? 2 : 1, on_write_cb);
  if (rc != 0) {
    delete w;
    close();
    return false;
  }
  ++writes_in_flight_;
  return true;
}

bool HttpConnection::can_write_more() const {
  // Two limits. The queue's bytes: what the socket has not taken yet. And the writes
  // whose callbacks have not run: a client reading as fast as we write takes every
  // write at once, so the queue stays empty, and without this a body would be
  // written in one go (seconds of a 700 MB cut) before the loop saw anything else.
  // Callbacks of writes done at once run on the next loop turn, so this caps the
  // bytes written per turn (a few writes of at most 1 MiB: on loopback the kernel
  // also does the reader's work inside our write, ~0.4 ms a MiB).
  return !closing_ && tcp_.write_queue_size < server_.limits_.write_high_watermark &&
         writes_in_flight_ < kMaxWritesPerTurn;
}

void HttpConnection::finish_response(bool chunked_terminator) {
  if (!response_active_) return;
  if (chunked_terminator && chunked_ && !request_.is_head()) queue_write("0\r\n\r\n", {});
  flush_head();
  response_done(true);
}

void HttpConnection::abort_response() {
  if (!response_active_) return;
  auto file_done = std::move(stream_file_done_);
  stream_file_done_ = nullptr;
  // Without the terminating chunk (or with a short Content-Length) the client sees
  // a broken body instead of a clean end.
  response_done(false);
  close();
  if (file_done) file_done(false);  // a local copy: safe whatever close() released
}

void HttpConnection::queue_write(std::string first, std::string second) {
  if (closing_) return;
  if (!pending_head_.empty()) {
    if (second.empty()) {
      second = std::move(first);
      first = std::move(pending_head_);
    } else {
      first.insert(0, pending_head_);
    }
    pending_head_.clear();
  }
  auto* w = new WriteRequest;
  w->connection = this;
  w->parts[0] = std::move(first);
  w->parts[1] = std::move(second);
  uv_buf_t bufs[2] = {uv_buf_init(w->parts[0].data(), unsigned(w->parts[0].size())),
                      uv_buf_init(w->parts[1].data(), unsigned(w->parts[1].size()))};
  w->req.data = w;
  int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), bufs, w->parts[1].empty() ? 1 : 2,
                    on_write_cb);
  if (rc != 0) {
    delete w;
    close();
    return;
  }
  ++writes_in_flight_;
}

void HttpConnection::on_write_cb(uv_write_t* req, int status) noexcept {
  auto* w = static_cast<WriteRequest*>(req->data);
  HttpConnection* self = w->connection;
  delete w;
  self->on_write_done(status);
}

void HttpConnection::on_write_done(int status) {
  --writes_in_flight_;
  if (closing_) {
    maybe_release();
    return;
  }
  if (status < 0) {
    close();  // the client went away
    return;
  }
  touch();
  if (!response_active_ || !can_write_more()) return;
  if (file_fd_ >= 0) {
    read_next_file_chunk();
  } else if (response_->on_writable) {
    auto on_writable = response_->on_writable;  // it may replace itself
    on_writable();
  }
}

void HttpConnection::response_done(bool completed) {
  response_active_ = false;
  response_->finished_ = true;
  if (server_.observer_) {
    ResponseRecord record;
    record.method = request_.method;
    record.endpoint = response_->endpoint_;
    record.status = response_->status_;
    record.duration_seconds = double(uv_hrtime() - request_started_ns_) / 1e9;
    record.body_bytes = body_bytes_;
    record.completed = completed;
    server_.observer_(request_, record);
  }
  if (!completed) return;
  if (!keep_alive_ || close_after_response_) {
    shutdown_and_close();
    return;
  }
  drain_input();
}

void HttpConnection::shutdown_and_close() {
  if (closing_) return;
  if (reading_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    reading_ = false;
  }
  // Shutdown waits for the queued writes, so the response reaches the client whole.
  auto* req = new uv_shutdown_t;
  req->data = this;
  if (uv_shutdown(req, reinterpret_cast<uv_stream_t*>(&tcp_), on_shutdown_cb) != 0) {
    delete req;
    close();
    return;
  }
  ++writes_in_flight_;
  close_after_response_ = true;
}

void HttpConnection::on_shutdown_cb(uv_shutdown_t* req, int) noexcept {
  auto* self = static_cast<HttpConnection*>(req->data);
  delete req;
  --self->writes_in_flight_;
  self->close();
  self->maybe_release();
}

void HttpConnection::on_timer_cb(uv_timer_t* timer) noexcept {
  static_cast<HttpConnection*>(timer->data)->on_timer();
}

void HttpConnection::on_timer() {
  std::uint64_t now = uv_now(loop_);
  bool idle = now - last_activity_ >= server_.limits_.idle_timeout_ms;
  if (!idle && request_deadline_ != 0 && now >= request_deadline_ && !response_active_) {
    // Bytes kept coming, but too slowly for the request ever to be whole: a client
    // trickling its request must not hold a connection forever.
    request_deadline_ = 0;
    std::uint64_t allowed_ms = std::string_view(deadline_what_) == "request head"
                                   ? std::min(server_.limits_.header_timeout_ms, server_.limits_.idle_timeout_ms)
                                   : server_.limits_.body_timeout_ms;
    char allowed[32];
    std::snprintf(allowed, sizeof allowed, "%.1f", double(allowed_ms) / 1000);
    respond_parse_error(408, std::string(deadline_what_) + " not received within " + allowed + " s");
    return;
  }
  if (!idle) return arm_timer();  // woken early (a deadline that moved): not idle yet
  app::logger("http")->debug("closing idle connection");
  close();
}

void HttpConnection::close_when_idle() {
  if (response_active_) {
    close_after_response_ = true;
    keep_alive_ = false;
  } else if (writes_in_flight_ > 0) {
    shutdown_and_close();
  } else {
    close();
  }
}

void HttpConnection::close() {
  if (closing_) return;
  closing_ = true;
  if (response_active_) {
    response_done(false);
    if (response_->on_client_gone) {
      auto gone = std::move(response_->on_client_gone);
      gone();
    }
  }
  if (file_fd_ >= 0 && !file_read_in_flight_) {
    ::close(file_fd_);
    file_fd_ = -1;
  }
  file_map_.reset();
  stream_file_done_ = nullptr;  // a client gone was told through on_client_gone
  uv_timer_stop(&timer_);
  if (open_handles_ == 0) {
    // Never accepted: nothing to close, but still released through the server.
    maybe_release();
    return;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close_cb);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_close_cb);
}

void HttpConnection::on_close_cb(uv_handle_t* handle) noexcept {
  auto* self = static_cast<HttpConnection*>(handle->data);
  --self->open_handles_;
  self->maybe_release();
}

// Frees the connection once nothing can call back into it: handles closed, writes
// and the file read finished. Called from those callbacks, so the server defers
// the deletion until the callback has returned.
void HttpConnection::maybe_release() {
  if (!closing_ || open_handles_ > 0 || writes_in_flight_ > 0 || file_read_in_flight_) return;
  if (file_fd_ >= 0) {
    ::close(file_fd_);
    file_fd_ = -1;
  }
  server_.on_connection_released(this);
}

// --- llhttp callbacks: copy spans out before llhttp_execute returns -----------------

int HttpConnection::on_message_begin(llhttp_t* parser) noexcept {
  HttpConnection* self = owner(parser);
  self->request_ = HttpRequest{};
  self->header_field_.clear();
  self->header_value_.clear();
  self->in_header_value_ = false;
  self->header_bytes_ = 0;
  self->body_bytes_received_ = 0;
  const HttpLimits& limits = self->server_.limits_;
  self->request_deadline_ = uv_now(self->loop_) + std::min(limits.header_timeout_ms, limits.idle_timeout_ms);
  self->deadline_what_ = "request head";
  return 0;
}

int HttpConnection::on_url(llhttp_t* parser, const char* at, size_t length) noexcept {
  HttpConnection* self = owner(parser);
  self->request_.target.append(at, length);
  if (self->request_.target.size() > self->server_.limits_.max_url_bytes) {
    self->parse_error_status_ = 414;
    return -1;
  }
  return 0;
}

void HttpConnection::finish_header() {
  std::transform(header_field_.begin(), header_field_.end(), header_field_.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  request_.headers.emplace_back(std::move(header_field_), std::move(header_value_));
  header_field_.clear();
  header_value_.clear();
  in_header_value_ = false;
}

int HttpConnection::on_header_field(llhttp_t* parser, const char* at, size_t length) noexcept {
  HttpConnection* self = owner(parser);
  if (self->in_header_value_) self->finish_header();
  self->header_field_.append(at, length);
  self->header_bytes_ += length;
  if (self->header_bytes_ > self->server_.limits_.max_header_bytes) {
    self->parse_error_status_ = 431;
    return -1;
  }
  return 0;
}

int HttpConnection::on_header_value(llhttp_t* parser, const char* at, size_t length) noexcept {
  HttpConnection* self = owner(parser);
  if (!self->in_header_value_) self->header_bytes_ += 4;  // ": " and CRLF
  self->in_header_value_ = true;
  self->header_value_.append(at, length);
  self->header_bytes_ += length;
  if (self->header_bytes_ > self->server_.limits_.max_header_bytes) {
    self->parse_error_status_ = 431;
    return -1;
  }
  return 0;
}

int HttpConnection::on_headers_complete(llhttp_t* parser) noexcept {
  HttpConnection* self = owner(parser);
  if (self->in_header_value_ || !self->header_field_.empty()) self->finish_header();
  HttpRequest& r = self->request_;
  r.method = llhttp_method_name(static_cast<llhttp_method_t>(parser->method));
  r.keep_alive = llhttp_should_keep_alive(parser) != 0;
  size_t question = r.target.find('?');
  r.path = r.target.substr(0, question);
  r.query = question == std::string::npos ? std::string() : r.target.substr(question + 1);
  bool has_body = (parser->flags & F_CHUNKED) || parser->content_length > 0;
  if (has_body && parser->content_length > self->server_.limits_.max_body_bytes && !(parser->flags & F_CHUNKED)) {
    self->parse_error_status_ = 413;
    return -1;
  }
  self->request_deadline_ = has_body ? uv_now(self->loop_) + self->server_.limits_.body_timeout_ms : 0;
  self->deadline_what_ = "request body";
  return 0;
}

int HttpConnection::on_body(llhttp_t* parser, const char* at, size_t length) noexcept {
  HttpConnection* self = owner(parser);
  self->body_bytes_received_ += length;
  if (self->body_bytes_received_ > self->server_.limits_.max_body_bytes) {
    self->parse_error_status_ = 413;
    return -1;
  }
  self->request_.body.append(at, length);
  return 0;
}

int HttpConnection::on_message_complete(llhttp_t* parser) noexcept {
  owner(parser)->request_deadline_ = 0;
  // Pause so that one request is answered before the next one is parsed.
  return HPE_PAUSED;
}

const llhttp_settings_t& HttpConnection::parser_settings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = on_message_begin;
    s.on_url = on_url;
    s.on_header_field = on_header_field;
    s.on_header_value = on_header_value;
    s.on_headers_complete = on_headers_complete;
    s.on_body = on_body;
    s.on_message_complete = on_message_complete;
    return s;
  }();
  return settings;
}

}  // namespace wubd::io
