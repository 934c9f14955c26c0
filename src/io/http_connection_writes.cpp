// HttpConnection's writing side: the response head, the body's bytes (owned,
// borrowed, or sent from a file with sendfile), their framing, and the backpressure a
// body sees through BodyWriter::writable(). Completions are in http_connection.cpp.
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>

#include "http_connection_output.h"
#include "http_head.h"

namespace wubd::io {

void HttpConnection::add_response_header(std::string name, std::string value) {
  if (response_) response_->headers.emplace_back(std::move(name), std::move(value));
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
  auto request = WriteRequest::make();
  WriteBytes* w = &request->payload;
  w->prefix = pending_head_.empty() ? std::move(prefix) : std::exchange(pending_head_, {}) + prefix;
  w->bytes = std::move(bytes);
  w->keep = std::move(keep);
  w->borrowed = borrowed;
  w->borrowed_length = borrowed_length;
  w->suffix = std::move(suffix);
  uv_buf_t bufs[4];
  unsigned count = 0;
  if (!w->prefix.empty()) bufs[count++] = uv_buf_init(w->prefix.data(), unsigned(w->prefix.size()));
  if (!w->bytes.empty()) bufs[count++] = uv_buf_init(w->bytes.data(), unsigned(w->bytes.size()));
  if (w->borrowed) bufs[count++] = uv_buf_init(const_cast<char*>(w->borrowed), unsigned(w->borrowed_length));
  if (!w->suffix.empty()) bufs[count++] = uv_buf_init(w->suffix.data(), unsigned(w->suffix.size()));
  if (count == 0) return;
  if (WriteRequest::submit(std::move(request), [&](uv_write_t* req) {
        return uv_write(req, tcp_.stream(), bufs, count, on_write_cb);
      }) != 0) {
    return close();
  }
  ++writes_in_flight_;
}

void HttpConnection::queue_yield() {
  // A write of no bytes: libuv finishes it at once, and its callback, which resumes
  // the body, runs on the next loop turn.
  auto request = WriteRequest::make();
  request->payload.ends_yield = true;
  uv_buf_t nothing = uv_buf_init(nullptr, 0);
  if (WriteRequest::submit(std::move(request), [&](uv_write_t* req) {
        return uv_write(req, tcp_.stream(), &nothing, 1, on_write_cb);
      }) != 0) {
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

}  // namespace wubd::io
