#include "http_connection.h"

#include "http_connection_output.h"
#include "http_head.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <memory>

#include <spdlog/spdlog.h>

#include "wubd/io/peer_name.h"

#include "wubd/core/time.h"
#include "wubd/io/lifetime.h"
#include "wubd/log/log.h"

namespace wubd::io {
namespace {

// Input buffered beyond this while a response is in progress stops reading, so a
// client pipelining faster than we answer is held back by TCP instead of memory.
constexpr std::size_t kMaxBufferedInput = 64 * 1024;

// One read buffer for every connection of a loop's thread: libuv calls alloc and read
// back to back for one stream, and on_read copies what it keeps, so a thousand idle
// connections cost no buffers. Per thread, so that two daemons on two loops never
// share it; made at the first read, so that threads that never read (libuv's
// threadpool) carry none.
constexpr std::size_t kReadBufferBytes = 64 * 1024;
thread_local std::unique_ptr<char[]> g_read_buffer;

}  // namespace

HttpConnection::HttpConnection(ConnectionOwner& owner, uv_loop_t* loop) : owner_(owner), loop_(loop) {
  llhttp_init(&parser_, HTTP_REQUEST, &parser_settings());
  // llhttp knows only the versions it was written for (1.2 is its "Invalid HTTP
  // version"): any digit.digit is let through, and judge_head answers it as RFC 9110
  // says. llhttp 8.1 has the flag but no setter for it; llhttp_reset keeps it.
  parser_.lenient_flags |= LENIENT_VERSION;
  parser_.data = this;
}

HttpConnection::~HttpConnection() = default;

bool HttpConnection::accept(uv_stream_t* listener) {
  tcp_.init(uv_tcp_init, loop_);
  tcp_->data = this;
  timer_.init(uv_timer_init, loop_);
  timer_->data = this;
  if (int rc = uv_accept(listener, tcp_.stream()); rc != 0) {
    log::logger(log::Module::Http).warn("accept failed: {}", uv_err_name(rc));
    close();
    return false;
  }
  // Keep-alive responses must not wait for the client's delayed ACK.
  uv_tcp_nodelay(tcp_.get(), 1);
  client_ = peer_name(tcp_.get());
  touch();
  start_reading();
  return true;
}

void HttpConnection::reject_overloaded() {
  if (closing_) return;
  send_canned_and_close(503, "too many connections, try again later", "Retry-After: 1\r\n");
}

// A plain-text answer outside any handler (overload, unparseable request), then
// close once it is written.
void HttpConnection::send_canned_and_close(int status, std::string_view message, std::string_view extra_headers) {
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
  if (uv_read_start(tcp_.stream(), on_alloc_cb, on_read_cb) == 0) reading_ = true;
}

void HttpConnection::touch() {
  last_activity_ = uv_now(loop_);
  arm_timer();
}

void HttpConnection::arm_timer() {
  if (closing_) return;
  std::uint64_t timeout = owner_.limits().idle_timeout_ms;
  if (request_deadline_ != 0 && !response_) {
    std::uint64_t now = uv_now(loop_);
    timeout = std::min(timeout, request_deadline_ > now ? request_deadline_ - now : 0);
  }
  uv_timer_start(timer_.get(), on_timer_cb, timeout, 0);
}

void HttpConnection::on_alloc_cb(uv_handle_t*, size_t, uv_buf_t* buf) noexcept {
  if (!g_read_buffer) g_read_buffer = std::make_unique<char[]>(kReadBufferBytes);
  *buf = uv_buf_init(g_read_buffer.get(), kReadBufferBytes);
}

void HttpConnection::on_read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  static_cast<HttpConnection*>(stream->data)->on_read(nread, buf);
}

void HttpConnection::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0) return;
  if (nread < 0) {
    // EOF during a sized response: the client may only have shut down its side and
    // still want the answer. A body produced over time (chunked), or work done for the
    // client alone (a cut), must hear of it now, not at its next write. Anything else
    // means the client is gone.
    if (nread == UV_EOF && response_ && !response_->chunked && !response_->body->stop_on_client_eof()) {
      peer_done_ = true;
      close_after_response_ = true;
      uv_read_stop(tcp_.stream());
      reading_ = false;
      return;
    }
    close();
    return;
  }
  touch();
  if (judging_method_) {
    method_start_.append(buf->base, size_t(nread));
    judge_method();
    return;
  }
  input_.append(buf->base, size_t(nread));
  drain_input();
  arm_timer();  // a request may have begun or completed: its deadline moved
}

// Parses buffered input, dispatching each complete request in turn, until the input
// runs out or a response is in progress. Re-entrant calls (a response that finishes
// inside dispatch) return at once; the outer loop carries on.
void HttpConnection::drain_input() {
  if (draining_) return;
  draining_ = true;
  while (!closing_ && !response_ && !input_.empty() && !refusal_) {
    llhttp_errno_t err = llhttp_execute(&parser_, input_.data(), input_.size());
    if (err == HPE_OK) {
      input_.clear();
      // An HTTP/0.9 request line (`GET /`, no version) is answered at once, not left
      // waiting for headers that a 0.9 client never sends.
      if (parser_.http_major == 0 && parser_.http_minor == 9) {
        refusal_ = http09_refusal();
        respond_refusal(*refusal_);
      }
      break;
    }
    if (err == HPE_PAUSED) {
      size_t consumed = size_t(llhttp_get_error_pos(&parser_) - input_.data());
      llhttp_resume(&parser_);
      input_.erase(0, consumed);
      dispatch();
      continue;
    }
    if (!refusal_ && err == HPE_INVALID_METHOD) {
      // The method so far: what llhttp handed over from earlier reads, then this
      // read (after the empty lines llhttp skips before a request, RFC 9112 2.2).
      std::string_view rest = input_;
      if (method_bytes_.empty()) rest.remove_prefix(std::min(rest.size(), rest.find_first_not_of("\r\n")));
      method_start_ = method_bytes_ + std::string(rest);
      input_.clear();
      judging_method_ = true;
      judge_method();
      break;
    }
    // A request line without a version (HTTP/0.9) is answered as such whatever
    // followed it in the same read: the answer must not depend on how the bytes were
    // cut into reads (the fuzzer's invariant).
    if (parser_.http_major == 0 && parser_.http_minor == 9) refusal_ = http09_refusal();
    if (!refusal_) refusal_ = Refusal{400, std::string("malformed request: ") + llhttp_get_error_reason(&parser_), {}};
    respond_refusal(*refusal_);
    break;
  }
  draining_ = false;
  if (closing_) return;
  if (response_ && input_.size() > kMaxBufferedInput && reading_) {
    uv_read_stop(tcp_.stream());
    reading_ = false;
  } else if (!reading_ && input_.size() <= kMaxBufferedInput && !close_after_response_) {
    start_reading();
  }
}

// An unknown method is refused once enough of it has arrived to say whether it is a
// token (405) or not (400); until then the connection reads on.
void HttpConnection::judge_method() {
  if (auto refusal = judge_unknown_method(method_start_)) {
    refusal_ = std::move(refusal);
    respond_refusal(*refusal_);
  }
}

void HttpConnection::respond_refusal(const Refusal& refusal) {
  log::logger(log::Module::Http).info("{}: refusing request: {} ({})", client_, refusal.message, refusal.status);
  input_.clear();
  owner_.observe(request_, ResponseRecord{"", "other", refusal.status, 0, 0, true});
  send_canned_and_close(refusal.status, refusal.message, refusal.extra_headers);
}

void HttpConnection::dispatch() {
  std::uint64_t started_ns = uv_hrtime();
  HttpResponse answer(loop_);
  try {
    owner_.handle(request_, answer);
  } catch (const std::exception& e) {
    // Handlers report errors as responses; an exception here is a bug, but it must
    // not cross libuv's C frames.
    log::logger(log::Module::Http).error("handler threw for {} {}: {}", request_.method, request_.target, e.what());
  }
  auto response = std::make_unique<Response>();
  response->body = answer.take_body();
  if (response->body) {
    response->headers = answer.headers();
  } else {
    log::logger(log::Module::Http)
        .error("no answer to {} {}: the handler gave no body", request_.method, request_.target);
    HttpResponse fallback(loop_);
    fallback.send_error(500, "internal error");
    response->body = fallback.take_body();
  }
  response->endpoint = answer.endpoint();
  response->out = std::make_unique<Output>(this, request_.path);
  response->keep_alive = request_.keep_alive && !close_after_response_;
  response->started_ns = started_ns;
  response_ = std::move(response);
  Response* r = response_.get();
  call_body([r] { r->body->start(*r->out); });
}

template <typename Call>
void HttpConnection::call_body(Call call) {
  ++body_calls_;
  call();
  // The connection's outermost call into a body returned: its frames are gone, unless
  // that call was made from inside one of the body's own calls into the connection.
  if (--body_calls_ == 0) free_ended_bodies(output_calls_ == 0);
}

// Bodies of responses that ended inside a call into them: freed now if nothing of
// theirs is on the stack, else on the next loop turn.
void HttpConnection::free_ended_bodies(bool frames_gone) {
  if (frames_gone) {
    ended_in_call_.clear();
    return;
  }
  for (auto& ended : ended_in_call_) defer_delete(loop_, std::move(ended));
  ended_in_call_.clear();
}

void HttpConnection::retire_response() {
  if (body_calls_ > 0) {
    // The connection called into the body: freed when that call returns.
    ended_in_call_.push_back(std::move(response_));
  } else {
    // The body called in from a callback of its own: it is on the stack.
    defer_delete(loop_, std::move(response_));
  }
}

void HttpConnection::on_write_cb(uv_write_t* req, int status) noexcept {
  auto w = WriteRequest::from(req);
  if (auto* self = static_cast<HttpConnection*>(req->handle->data)) self->on_write_done(status, w->payload.ends_yield);
}

void HttpConnection::on_write_done(int status, bool ends_yield) {
  --writes_in_flight_;
  if (ends_yield) {
    sent_since_yield_ = 0;
    yielding_ = false;
  }
  if (closing_) return;
  if (status < 0) return close();  // the client went away
  touch();
  if (!response_ || !can_write_more()) return;
  Response* r = response_.get();
  call_body([r] { r->body->resume(); });
}

void HttpConnection::response_done(bool completed) {
  Response& r = *response_;
  r.out->detach();
  ResponseRecord record;
  record.method = request_.method;
  record.endpoint = r.endpoint;
  record.status = r.status;
  record.duration_seconds = double(uv_hrtime() - r.started_ns) / 1e9;
  record.body_bytes = r.body_bytes;
  record.completed = completed;
  owner_.observe(request_, record);
  bool keep_alive = r.keep_alive;
  retire_response();
  if (!completed) return;  // the caller closes
  if (!keep_alive || close_after_response_) return shutdown_and_close();
  drain_input();
}

void HttpConnection::shutdown_and_close() {
  if (closing_) return;
  if (reading_) {
    uv_read_stop(tcp_.stream());
    reading_ = false;
  }
  // Shutdown waits for the queued writes, so the response reaches the client whole.
  using Shutdown = UvRequest<uv_shutdown_t>;
  if (Shutdown::submit(Shutdown::make(),
                       [&](uv_shutdown_t* req) { return uv_shutdown(req, tcp_.stream(), on_shutdown_cb); }) != 0) {
    return close();
  }
  close_after_response_ = true;
}

void HttpConnection::on_shutdown_cb(uv_shutdown_t* req, int) noexcept {
  auto done = UvRequest<uv_shutdown_t>::from(req);
  if (auto* self = static_cast<HttpConnection*>(req->handle->data)) self->close();
}

void HttpConnection::on_timer_cb(uv_timer_t* timer) noexcept { static_cast<HttpConnection*>(timer->data)->on_timer(); }

void HttpConnection::on_timer() {
  const HttpLimits& limits = owner_.limits();
  std::uint64_t now = uv_now(loop_);
  bool idle = now - last_activity_ >= limits.idle_timeout_ms;
  if (!idle && request_deadline_ != 0 && now >= request_deadline_ && !response_) {
    // Bytes kept coming, but too slowly for the request ever to be whole: a client
    // trickling its request must not hold a connection forever.
    request_deadline_ = 0;
    std::uint64_t allowed_ms = std::string_view(deadline_what_) == "request head"
                                   ? std::min(limits.header_timeout_ms, limits.idle_timeout_ms)
                                   : limits.body_timeout_ms;
    char allowed[32];
    std::snprintf(allowed, sizeof allowed, "%.1f", double(allowed_ms) / 1000);
    respond_refusal(Refusal{408, std::string(deadline_what_) + " not received within " + allowed + " s", {}});
    return;
  }
  if (!idle) return arm_timer();  // woken early (a deadline that moved): not idle yet
  log::logger(log::Module::Http).debug("closing idle connection");
  close();
}

void HttpConnection::close_when_idle() {
  if (response_) {
    close_after_response_ = true;
    response_->keep_alive = false;
  } else if (writes_in_flight_ > 0) {
    shutdown_and_close();
  } else {
    close();
  }
}

void HttpConnection::close() {
  if (closing_) return;
  closing_ = true;
  if (response_) {
    Response* r = response_.get();
    call_body([this, r] {
      response_done(false);
      r->body->stop();
    });
  }
  timer_.close();
  tcp_.close();  // writes still queued are cancelled; their buffers free themselves
  owner_.release(this);
}

}  // namespace wubd::io
