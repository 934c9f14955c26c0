#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

// Response bodies as objects, h2o's generator model: a handler answers with an owned
// HttpBody; the connection owns it from then on, asks it for bytes while the socket
// can take them, and destroys it when the response is over or the client leaves.
namespace wubd::io {

// Where a body's bytes go: the connection, which frames them (Content-Length or
// chunked) and tells the body when it can take more. Calls after the response is
// over (ended, failed, or the client gone) do nothing, so a body never needs to know
// whether its response still exists.
class BodyWriter {
 public:
  // Sends the head: `status`, the content type (none if empty), the handler's headers,
  // and `length` as Content-Length, or chunked (HTTP/1.0: until close) without one.
  // Once, before any write. For a HEAD request the response is over after this.
  virtual void begin(int status, std::string_view content_type, std::optional<std::int64_t> length) = 0;
  // Adds a header to the head begin() will send (one the body learns only later: a
  // Content-Range). Ignored after begin().
  virtual void add_header(std::string name, std::string value) = 0;
  virtual void write(std::string bytes) = 0;
  // Bytes written without being copied: `keep` keeps them valid until they are sent.
  virtual void write_borrowed(std::shared_ptr<const void> keep, const char* data, std::size_t length) = 0;
  // Sends up to `length` bytes of the open file `fd` from `offset` straight from the
  // page cache into the socket (sendfile(2): no copy through user space) if nothing is
  // queued before them; returns how many bytes it sent, 0 if none (the socket is full,
  // the body is chunked, or the loop turn's share is used up): the caller writes them
  // instead, if writable() still says so. The pages must be in the page cache already:
  // sendfile would wait on the disk inside the loop.
  virtual std::size_t send_file_now(int fd, std::int64_t offset, std::size_t length) = 0;
  // False while enough is queued (or the response is over): produce more when
  // HttpBody::resume() is called.
  virtual bool writable() const = 0;
  // The body is complete. With a Content-Length, exactly that many bytes came first.
  virtual void end() = 0;
  // The body cannot be produced. Before begin(): the answer is `status` with `message`
  // as a plain-text error. After it: the connection is closed without finishing the
  // body (no terminating chunk, or short of its length), so the client knows it is
  // broken; `message` goes to the log.
  virtual void fail(int status, std::string_view message) = 0;
  virtual bool began() const = 0;
  // True once the response is over (ended, failed, the client gone, or a HEAD request's
  // head sent): nothing more is sent, and the body may stop working.
  virtual bool finished() const = 0;
  // The request being answered, for log lines ("GET /cut/...").
  virtual std::string_view request_path() const = 0;

 protected:
  ~BodyWriter() = default;
};

class HttpBody {
 public:
  virtual ~HttpBody() = default;

  // Called once, after the handler returned. The body produces its response through
  // `out` (begin, write, end or fail) now or later; `out` stays valid for the body's
  // whole life.
  virtual void start(BodyWriter& out) = 0;
  // `out` can take more after writable() was false. May be called when nothing waits.
  virtual void resume() {}
  // The client left, or the server is closing now, before end(): stop producing. The
  // body is destroyed on the next loop turn; nothing it writes from now on is sent.
  virtual void stop() {}
  // A body produced by work nobody should do for nobody (a cut running ffmpeg): a
  // client that shuts down its sending side counts as gone, and stop() follows at
  // once. Other bodies are still sent to a client that only half-closed.
  virtual bool stop_on_client_eof() const { return false; }
};

// A body made of functions, for small producers (tests, the fake origin's faults).
struct BodyFunctions {
  std::function<void(BodyWriter& out)> start;
  std::function<void()> resume;
  std::function<void()> stop;
  bool stop_on_client_eof = false;
};
std::unique_ptr<HttpBody> make_body(BodyFunctions functions);

}  // namespace wubd::io
