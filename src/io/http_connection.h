#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <llhttp.h>
#include <uv.h>

#include "wubd/io/http_body.h"
#include "wubd/io/http_server.h"
#include "wubd/io/request_rules.h"
#include "wubd/io/uv_handle.h"
#include "wubd/io/uv_request.h"

namespace wubd::io {

// One accepted TCP connection, the HTTP/1.1 protocol and nothing else: reads and
// parses requests, hands each to the server's handler, sends the body the handler
// answered with, and repeats while the client keeps the connection alive. Pipelined
// requests are parsed one at a time: input is buffered while a response is in
// progress, and reading stops when that buffer grows large.
//
// Owned by its HttpServer, which frees it on the loop turn after it closed. It owns
// the body of the response in progress and destroys it when the response is over or
// the client leaves, never inside one of the body's calls (lifetime.h, rule 3).
class HttpConnection {
 public:
  HttpConnection(ConnectionOwner& owner, uv_loop_t* loop);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Accepts a pending connection from `listener` and starts reading. False if that
  // failed: the connection is then closed and released.
  bool accept(uv_stream_t* listener);
  // Answers 503 and closes: the server is at its connection cap.
  void reject_overloaded();

  // Closes now, breaking off any response in progress. Idempotent.
  void close();
  // Closes once the response in progress (if any) is written.
  void close_when_idle();

 private:
  class Output;
  struct Response;
  struct WriteBytes;
  using WriteRequest = UvRequest<uv_write_t, WriteBytes>;  // freed in on_write_cb

  static void on_alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) noexcept;
  static void on_read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_write_cb(uv_write_t* req, int status) noexcept;
  static void on_shutdown_cb(uv_shutdown_t* req, int status) noexcept;
  static void on_timer_cb(uv_timer_t* timer) noexcept;

  static const llhttp_settings_t& parser_settings();
  static int on_message_begin(llhttp_t* parser) noexcept;
  static int on_method(llhttp_t* parser, const char* at, size_t length) noexcept;
  static int on_url(llhttp_t* parser, const char* at, size_t length) noexcept;
  static int on_header_field(llhttp_t* parser, const char* at, size_t length) noexcept;
  static int on_header_value(llhttp_t* parser, const char* at, size_t length) noexcept;
  static int on_headers_complete(llhttp_t* parser) noexcept;
  static int on_body(llhttp_t* parser, const char* at, size_t length) noexcept;
  static int on_message_complete(llhttp_t* parser) noexcept;

  void on_read(ssize_t nread, const uv_buf_t* buf);
  void on_write_done(int status, bool ends_yield);
  void drain_input();
  void dispatch();
  void respond_refusal(const Refusal& refusal);
  void judge_method();
  void send_canned_and_close(int status, std::string_view message, std::string_view extra_headers);

  // The body's side (Output calls these for the response in progress).
  void begin_response(int status, std::string_view content_type, std::optional<std::int64_t> length);
  void add_response_header(std::string name, std::string value);
  void write_body(std::string bytes);
  void write_body_borrowed(std::shared_ptr<const void> keep, const char* data, std::size_t length);
  std::size_t send_body_file(int fd, std::int64_t offset, std::size_t length);
  void end_response();
  void fail_response(int status, std::string_view message);
  bool can_write_more() const;

  void queue_write(std::string prefix, std::string bytes = {}, std::shared_ptr<const void> keep = {},
                   const char* borrowed = nullptr, std::size_t borrowed_length = 0, std::string suffix = {});
  void flush_head();
  void queue_yield();
  // The response is over: records it, lets go of its body, and goes on with the
  // connection (the next request, or closing).
  void response_done(bool completed);
  // Calls into the body, so that a body that finishes its response inside the call
  // is freed right after it rather than a loop turn later.
  template <typename Call>
  void call_body(Call call);
  void retire_response();
  void free_ended_bodies(bool frames_gone);

  void shutdown_and_close();
  void start_reading();
  void touch();
  // (Re)starts the timer for the nearer of the idle timeout and the request deadline.
  void arm_timer();
  void on_timer();
  void finish_header();

  ConnectionOwner& owner_;
  uv_loop_t* loop_;
  UvHandle<uv_tcp_t> tcp_;
  UvHandle<uv_timer_t> timer_;
  bool closing_ = false;
  bool reading_ = false;
  bool draining_ = false;
  bool close_after_response_ = false;
  bool peer_done_ = false;  // the client shut down its side

  llhttp_t parser_{};
  std::string input_;  // received, not yet parsed
  HttpRequest request_;
  std::string client_;  // the peer's address, set at accept
  std::string header_field_;
  std::string header_value_;
  bool in_header_value_ = false;
  std::size_t header_bytes_ = 0;
  std::string method_bytes_;        // the current request's method, as llhttp hands it over
  std::string method_start_;        // a method llhttp refused, and what followed it: being judged
  bool judging_method_ = false;     // reads go to method_start_ until judge_method() answers
  std::optional<Refusal> refusal_;  // set by a parser callback (or a parse error) that refused the request
  // The last piece of the header value being parsed reached the end of the input, so
  // the next piece may be its continuation rather than a folded line.
  bool value_may_continue_ = false;
  // When the request being received must be complete (uv_now ms), 0 when none is;
  // `deadline_what_` names the part still missing, for the 408 and the log.
  std::uint64_t request_deadline_ = 0;
  std::uint64_t last_activity_ = 0;  // uv_now ms of the last byte moved either way
  const char* deadline_what_ = "";
  std::uint64_t body_bytes_received_ = 0;
  std::uint64_t body_limit_ = 0;  // of the request being read (HttpLimits::body_limit)

  // The response in progress, if any, and those that ended inside a call into their
  // body (freed once the body's frames are gone: free_ended_bodies).
  std::unique_ptr<Response> response_;
  std::vector<std::unique_ptr<Response>> ended_in_call_;
  int body_calls_ = 0;        // the connection's calls into a body, on the stack
  int output_calls_ = 0;      // a body's calls into the connection, on the stack
  std::string pending_head_;  // the response head, not yet written
  int writes_in_flight_ = 0;
  static constexpr int kMaxWritesPerTurn = 4;  // see can_write_more()
  // Bytes sendfile sent since the body last gave its turn away, and whether it is
  // giving it away now (queue_yield): at most kSendfileBytesPerTurn a loop turn.
  std::size_t sent_since_yield_ = 0;
  bool yielding_ = false;
  static constexpr std::size_t kSendfileBytesPerTurn = 4 << 20;
};

}  // namespace wubd::io
