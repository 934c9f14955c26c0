#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <uv.h>

#include "wubd/io/beneath.h"
#include "wubd/io/http_body.h"

namespace wubd::io {

// A whole file of known length, opened only when the body reaches it (a long cut
// must not hold hundreds of descriptors), never through a symlink (beneath.h).
struct FileSlice {
  BeneathPath file;
  std::int64_t length = 0;
};

// What a handler answers one request with: headers, then exactly one body, before the
// handler returns. A body that takes time (a cut) is an HttpBody that produces its
// bytes later; the handler still hands it over now. A handler that answers nothing
// gets a 500. The server adds Content-Length or chunked framing, Connection, Date and
// the CORS headers to every response.
class HttpResponse {
 public:
  // `loop` runs the file bodies' reads.
  explicit HttpResponse(uv_loop_t* loop) : loop_(loop) {}

  void add_header(std::string name, std::string value) { headers_.emplace_back(std::move(name), std::move(value)); }
  // The `endpoint` label for metrics; bounded values only.
  void set_endpoint(std::string_view endpoint) { endpoint_ = endpoint; }

  // A complete body from memory.
  void send(int status, std::string_view content_type, std::string body);
  // A complete body shared with others (a cache): written without being copied.
  void send_shared(int status, std::string_view content_type, std::shared_ptr<const std::string> body);
  // A plain-text error: the message plus a newline.
  void send_error(int status, std::string_view message);
  // `length` bytes of an open file from `offset`, sent as the client takes them
  // (file_streamer.h). Takes ownership of `fd`.
  void send_file(int status, std::string_view content_type, int fd, std::int64_t offset, std::int64_t length);
  // Several whole files back to back, sized (Content-Length is the sum), opened one at
  // a time. A file that cannot be opened or has shrunk breaks the body off.
  void send_files(int status, std::string_view content_type, std::vector<FileSlice> files);
  // The general form: `body` decides the status and produces the bytes.
  void send_body(std::unique_ptr<HttpBody> body);

  // Keeps `token` alive as long as the body (whatever body the handler sends): what
  // must last while the response is sent, such as a cut's hold on its range.
  void keep_while_sending(std::shared_ptr<void> token) { keep_.push_back(std::move(token)); }

  bool answered() const { return body_ != nullptr; }
  std::string_view endpoint() const { return endpoint_; }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }
  // For the server, once the handler returned.
  std::unique_ptr<HttpBody> take_body();

 private:
  uv_loop_t* loop_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string_view endpoint_ = "other";
  std::unique_ptr<HttpBody> body_;
  std::vector<std::shared_ptr<void>> keep_;
};

}  // namespace wubd::io
