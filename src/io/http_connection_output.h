#pragma once

// HttpConnection's response side, shared by http_connection.cpp (requests, the
// connection's life, write completions) and http_connection_writes.cpp (the head,
// the body's bytes, sendfile, backpressure). Private to src/io.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "http_connection.h"
#include "wubd/log/log.h"

namespace wubd::io {

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
  void add_header(std::string name, std::string value) override {
    if (!connection_ || began_) return;
    connection_->add_response_header(std::move(name), std::move(value));
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

// What one uv_write writes: a prefix (the head, a chunk's size line), the bytes
// (owned, or borrowed and kept alive by `keep`), a suffix (a chunk's CRLF). Freed with
// its request in on_write_cb; the connection is found through the socket's data,
// which its close clears.
struct HttpConnection::WriteBytes {
  std::string prefix;
  std::string bytes;
  std::shared_ptr<const void> keep;
  const char* borrowed = nullptr;
  std::size_t borrowed_length = 0;
  std::string suffix;
  bool ends_yield = false;  // the empty write that gives sendfile's turn away (send_body_file)
};

}  // namespace wubd::io
