#include "http_connection.h"

#include "http_head.h"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

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

// One shared read buffer: libuv calls alloc and read back to back for one stream, and
// on_read copies what it keeps, so a thousand idle connections cost no buffers.
char g_read_buffer[64 * 1024];

}  // namespace

// The BodyWriter of one response: forwards to the connection until the response is
// over, then does nothing. Calls are counted, since the body is on the stack during
// them (see HttpConnection::call_body).
class HttpConnection::Output final : public BodyWriter {
 public:
  Output(HttpConnection* connection, std::string path) : connection_(connection), path_(std::move(path)) {}

  void detach() { connection_ = nullptr; }
  void mark_began() { began_ = true; }

  void begin(int status, std::string_view content_type, std::optional<std::int64_t> length) override {
    if (!connection_) return;
    if (began_) {
      log::logger(log::Module::Http).error("{}: a body began its response twice", path_);
      return;
    }
    Call call(*connection_);
    connection_->begin_response(status, content_type, length);
  }
  void write(std::string bytes) override {
    if (!connection_ || !began_) return;
    Call call(*connection_);
    connection_->write_body(std::move(bytes));
  }
  void write_borrowed(std::shared_ptr<const void> keep, const char* data, std::size_t length) override {
    if (!connection_ || !began_) return;
    Call call(*connection_);
    connection_->write_body_borrowed(std::move(keep), data, length);
  }
  std::size_t send_file_now(int fd, std::int64_t offset, std::size_t length) override {
    if (!connection_ || !began_) return 0;
    Call call(*connection_);
    return connection_->send_body_file(fd, offset, length);
  }
  bool writable() const override { return connection_ && connection_->can_write_more(); }
  void end() override {
    if (!connection_) return;
    Call call(*connection_);
    if (!began_) connection_->begin_response(200, {}, 0);  // an empty body
    if (connection_) connection_->end_response();
  }
  void fail(int status, std::string_view message) override {
    if (!connection_) return;
    Call call(*connection_);
    connection_->fail_response(status, message);
  }
  bool began() const override { return began_; }
  bool finished() const override { return connection_ == nullptr; }
  std::string_view request_path() const override { return path_; }

 private:
  // While a body's call into the connection runs. The connection may be released
  // inside it, but it is freed only on a later loop turn, so this stays valid.
  struct Call {
    explicit Call(HttpConnection& c) : connection(c) { ++connection.output_calls_; }
    // The body's frame is still there when its call returns: anything that ended
    // meanwhile waits for the next loop turn.
    ~Call() {
      if (--connection.output_calls_ == 0 && connection.body_calls_ == 0) connection.free_ended_bodies(false);
    }
    HttpConnection& connection;
  };

  HttpConnection* connection_;
  std::string path_;
  bool began_ = false;
};

// The response in progress: the handler's headers and body, and what was sent.
struct HttpConnection::Response {
  std::unique_ptr<Output> out;
  std::unique_ptr<HttpBody> body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view endpoint = "other";
  int status = 0;
  bool chunked = false;
  bool keep_alive = true;
  std::uint64_t started_ns = 0;
  std::uint64_t body_bytes = 0;
};

// One uv_write and the bytes it writes: a prefix (the head, a chunk's size line), the
// bytes (owned, or borrowed and kept alive by `keep`), a suffix (a chunk's CRLF).
// Freed in on_write_cb; the connection is found through the socket's data, which its
// close clears.
struct HttpConnection::WriteRequest {
  uv_write_t req{};
  std::string prefix;
  std::string bytes;
  std::shared_ptr<const void> keep;
  const char* borrowed = nullptr;
  std::size_t borrowed_length = 0;
  std::string suffix;
  bool ends_yield = false;  // the empty write that gives sendfile's turn away (send_body_file)
};

HttpConnection::HttpConnection(ConnectionOwner& owner, uv_loop_t* loop) : owner_(owner), loop_(loop) {
  llhttp_init(&parser_, HTTP_REQUEST, &parser_settings());
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
  *buf = uv_buf_init(g_read_buffer, sizeof g_read_buffer);
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

void HttpConnection::begin_response(int status, std::string_view content_type, std::optional<std::int64_t> length) {
  Response& r = *response_;
  r.out->mark_began();
  r.status = status;
  std::string head;
  head.reserve(512);
  head += "HTTP/1.1 ";
  head += std::to_string(status);
  head += ' ';
  head += reason_phrase(status);
  head += "\r\n";
  if (!content_type.empty()) {
    head += "Content-Type: ";
    head += content_type;
    head += "\r\n";
  }
  for (const auto& [name, value] : r.headers) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  if (length) {
    head += "Content-Length: ";
    head += std::to_string(*length);
    head += "\r\n";
  } else if (parser_.http_major == 1 && parser_.http_minor == 0) {
    // HTTP/1.0 has no chunked coding: the body ends when the connection does.
    r.keep_alive = false;
  } else {
    r.chunked = true;
    head += "Transfer-Encoding: chunked\r\n";
  }
  head += "Date: ";
  head += http_date_now();
  head += "\r\nConnection: ";
  head += r.keep_alive ? "keep-alive" : "close";
  head += "\r\n";
  head += kCorsHeaders;
  head += "\r\n";
  // A sized head waits for the first body bytes, so that both leave in one write (one
  // packet for a small response); a body produced over time shows its status at once.
  pending_head_ = std::move(head);
  if (request_.is_head()) return end_response();
  if (!length) flush_head();
}

void HttpConnection::write_body(std::string bytes) {
  if (request_.is_head() || bytes.empty()) return;
  Response& r = *response_;
  r.body_bytes += bytes.size();
  if (!r.chunked) return queue_write({}, std::move(bytes));
  char size_line[24];
  int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", bytes.size());
  queue_write(std::string(size_line, size_t(n)), std::move(bytes), {}, nullptr, 0, "\r\n");
}

void HttpConnection::write_body_borrowed(std::shared_ptr<const void> keep, const char* data, std::size_t length) {
  if (request_.is_head() || length == 0) return;
  Response& r = *response_;
  r.body_bytes += length;
  if (!r.chunked) return queue_write({}, {}, std::move(keep), data, length);
  char size_line[24];
  int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", length);
  queue_write(std::string(size_line, size_t(n)), {}, std::move(keep), data, length, "\r\n");
}

std::size_t HttpConnection::send_body_file(int fd, std::int64_t offset, std::size_t length) {
  // Only into an empty queue, so that the bytes keep their place after what was
  // queued. (Waiting for the queue to empty instead of writing a copy would send more
  // with sendfile, and a lone rough cut 25% faster, but tried, it tripled the loop
  // lag other requests saw during a cut, and the cut benchmark ran slower.)
  if (closing_ || request_.is_head() || response_->chunked || yielding_ || writes_in_flight_ > 0 ||
      tcp_->write_queue_size > 0) {
    return 0;
  }
  uv_os_fd_t socket = -1;
  if (uv_fileno(tcp_.base(), &socket) != 0) return 0;
  if (!pending_head_.empty()) {
    // The head of a sized response waits for the first body bytes (begin_response):
    // it goes first, with MSG_MORE so that the kernel sends it in one packet with
    // them. What the socket does not take now goes with the next queued write.
    ssize_t written =
        ::send(socket, pending_head_.data(), pending_head_.size(), MSG_MORE | MSG_DONTWAIT | MSG_NOSIGNAL);
    if (written > 0) pending_head_.erase(0, std::size_t(written));
    if (!pending_head_.empty()) return 0;
  }
  if (sent_since_yield_ >= kSendfileBytesPerTurn) {
    // Enough for one loop turn (on loopback the kernel does the reader's work inside
    // sendfile too): the body waits for the next turn, so that other connections and
    // timers get theirs first.
    queue_yield();
    return 0;
  }
  off_t from = offset;
  ssize_t sent = ::sendfile(socket, fd, &from, std::min(length, kSendfileBytesPerTurn - sent_since_yield_));
  // EAGAIN: the socket is full, and a queued write waits for it; other errors show
  // there too (the write fails, and the connection closes).
  if (sent <= 0) return 0;
  sent_since_yield_ += std::size_t(sent);
  response_->body_bytes += std::uint64_t(sent);
  touch();
  return std::size_t(sent);
}

void HttpConnection::end_response() {
  if (response_->chunked && !request_.is_head()) queue_write("0\r\n\r\n");
  flush_head();
  response_done(true);
}

void HttpConnection::fail_response(int status, std::string_view message) {
  Response* r = response_.get();
  if (!r->out->began()) {
    std::string text = std::string(message) + "\n";
    begin_response(status, "text/plain; charset=utf-8", std::int64_t(text.size()));
    if (response_.get() != r) return;  // HEAD: the head was the whole answer
    write_body(std::move(text));
    return end_response();
  }
  // Without the terminating chunk (or with a short Content-Length) the client sees
  // a broken body instead of a clean end.
  log::logger(log::Module::Http).warn("{} {}: breaking off the response: {}", request_.method, request_.path, message);
  response_done(false);
  close();
}

void HttpConnection::flush_head() {
  if (!pending_head_.empty()) queue_write(std::exchange(pending_head_, {}));
}

void HttpConnection::queue_write(std::string prefix, std::string bytes, std::shared_ptr<const void> keep,
                                 const char* borrowed, std::size_t borrowed_length, std::string suffix) {
  if (closing_) return;
  auto* w = new WriteRequest;
  w->prefix = pending_head_.empty() ? std::move(prefix) : std::exchange(pending_head_, {}) + prefix;
  w->bytes = std::move(bytes);
  w->keep = std::move(keep);
  w->borrowed = borrowed;
  w->borrowed_length = borrowed_length;
  w->suffix = std::move(suffix);
  uv_buf_t bufs[3];
  unsigned count = 0;
  if (!w->prefix.empty()) bufs[count++] = uv_buf_init(w->prefix.data(), unsigned(w->prefix.size()));
  if (!w->bytes.empty()) bufs[count++] = uv_buf_init(w->bytes.data(), unsigned(w->bytes.size()));
  if (w->borrowed) bufs[count++] = uv_buf_init(const_cast<char*>(w->borrowed), unsigned(w->borrowed_length));
  if (!w->suffix.empty()) bufs[count++] = uv_buf_init(w->suffix.data(), unsigned(w->suffix.size()));
  w->req.data = w;
  if (count == 0 || uv_write(&w->req, tcp_.stream(), bufs, count, on_write_cb) != 0) {
    delete w;
    if (count != 0) close();
    return;
  }
  ++writes_in_flight_;
}

void HttpConnection::queue_yield() {
  // A write of no bytes: libuv finishes it at once, and its callback, which resumes
  // the body, runs on the next loop turn.
  auto* w = new WriteRequest;
  w->ends_yield = true;
  w->req.data = w;
  uv_buf_t nothing = uv_buf_init(nullptr, 0);
  if (uv_write(&w->req, tcp_.stream(), &nothing, 1, on_write_cb) != 0) {
    delete w;
    return close();
  }
  yielding_ = true;
  ++writes_in_flight_;
}

bool HttpConnection::can_write_more() const {
  // Two limits. The queue's bytes: what the socket has not taken yet. And the writes
  // whose callbacks have not run: a client reading as fast as we write takes every
  // write at once, so the queue stays empty, and without this a body would be
  // written in one go (seconds of a 700 MB cut) before the loop saw anything else.
  // Callbacks of writes done at once run on the next loop turn, so this caps the
  // bytes written per turn (a few writes of at most 1 MiB: on loopback the kernel
  // also does the reader's work inside our write, ~0.4 ms a MiB).
  return !closing_ && !yielding_ && tcp_->write_queue_size < owner_.limits().write_high_watermark &&
         writes_in_flight_ < kMaxWritesPerTurn;
}

void HttpConnection::on_write_cb(uv_write_t* req, int status) noexcept {
  std::unique_ptr<WriteRequest> w(static_cast<WriteRequest*>(req->data));
  if (auto* self = static_cast<HttpConnection*>(req->handle->data)) self->on_write_done(status, w->ends_yield);
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
  auto* req = new uv_shutdown_t{};
  if (uv_shutdown(req, tcp_.stream(), on_shutdown_cb) != 0) {
    delete req;
    return close();
  }
  close_after_response_ = true;
}

void HttpConnection::on_shutdown_cb(uv_shutdown_t* req, int) noexcept {
  std::unique_ptr<uv_shutdown_t> done(req);
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
