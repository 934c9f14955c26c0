#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wubd/io/beneath.h"

namespace wubd::io {

class HttpConnection;

// A whole file of known length, opened only when the body reaches it (a long cut
// must not hold hundreds of descriptors), never through a symlink (beneath.h).
struct FileSlice {
  BeneathPath file;
  std::int64_t length = 0;
};

// The answer to one request. The server hands it to the handler, which must finish
// it exactly once: with send()/send_error(), send_file(), or begin_stream() … end().
// It may do so later (after the handler returned), as long as the client is still
// there: if the connection dies first, `on_client_gone` runs once and the handler
// must not touch the response again. The server adds Content-Length or chunked
// framing, Connection, Date and the CORS headers to every response.
class HttpResponse {
 public:
  explicit HttpResponse(HttpConnection& connection) : connection_(connection) {}

  void add_header(std::string name, std::string value) {
    headers_.emplace_back(std::move(name), std::move(value));
  }
  // The `endpoint` label for metrics; bounded values only.
  void set_endpoint(std::string_view endpoint) { endpoint_ = endpoint; }

  // A complete body from memory.
  void send(int status, std::string_view content_type, std::string body);
  // A complete body shared with others (a cache): written without being copied.
  void send_shared(int status, std::string_view content_type, std::shared_ptr<const std::string> body);
  // A plain-text error: the message plus a newline.
  void send_error(int status, std::string_view message);
  // `length` bytes of an open file from `offset`, read in chunks as the client takes
  // them. Takes ownership of `fd` and closes it.
  void send_file(int status, std::string_view content_type, int fd, std::int64_t offset,
                 std::int64_t length);

  // Several whole files back to back, sized (Content-Length is the sum), streamed
  // like send_file. A file that cannot be opened or has shrunk aborts the body.
  void send_files(int status, std::string_view content_type, std::vector<FileSlice> files);

  // A chunked body produced over time. write() queues a chunk; while writable() is
  // false the producer should pause until `on_writable` runs. end() finishes the
  // body cleanly; abort() closes the connection without the terminating chunk, so
  // the client knows the body is incomplete. A HEAD request gets headers only.
  // With `content_length` the body is sized instead of chunked: the producer writes
  // exactly that many bytes (fewer, then abort(), is a truncated body).
  void begin_stream(int status, std::string_view content_type,
                    std::optional<std::int64_t> content_length = std::nullopt);
  void write(std::string chunk);
  // A whole file into a body begun with begin_stream, the way send_file sends one:
  // straight from the page cache, read off the loop when it is not. `done(true)` once
  // all of it is queued; `done(false)` if it could not be read, and the response is
  // then aborted (on_client_gone does not run for that). One at a time, and no
  // write() until it is done.
  void write_file(const BeneathPath& file, std::function<void(bool ok)> done);
  bool writable() const;
  void end();
  void abort();

  // For a handler that works a while before its first byte (a cut): a client that
  // closes its side meanwhile counts as gone, so on_client_gone fires at once.
  void notify_when_client_leaves();

  std::function<void()> on_client_gone;
  std::function<void()> on_writable;

  int status() const { return status_; }
  bool started() const { return started_; }
  bool finished() const { return finished_; }
  std::string_view endpoint() const { return endpoint_; }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }

 private:
  friend class HttpConnection;
  HttpConnection& connection_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string_view endpoint_ = "other";
  int status_ = 0;
  bool started_ = false;
  bool finished_ = false;
};

}  // namespace wubd::io
