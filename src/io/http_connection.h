#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <llhttp.h>
#include <uv.h>

#include "wubd/io/http_response.h"
#include "wubd/io/http_server.h"

namespace wubd::io {

// One accepted TCP connection: reads and parses requests, hands each to the server's
// handler, writes its response, and repeats while the client keeps the connection
// alive. Pipelined requests are parsed one at a time: input is buffered while a
// response is in progress, and reading stops when that buffer grows large.
//
// Owned by its HttpServer. It is freed only after both of its uv handles are closed
// and no file read is in flight; it never deletes itself inside its own callbacks
// (the server releases it from the last close callback).
class HttpConnection {
 public:
  HttpConnection(HttpServer& server, uv_loop_t* loop);
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Accepts a pending connection from `listener` and starts reading. On failure the
  // connection is closing and will be released.
  void accept(uv_stream_t* listener);
  // Answers 503 and closes: the server is at its connection cap.
  void reject_overloaded();

  // Closes now, aborting any response in progress. Idempotent.
  void close();
  // Closes once the response in progress (if any) is written.
  void close_when_idle();

  // Used by HttpResponse.
  void send_head(HttpResponse& response, std::string_view content_type,
                 std::optional<std::int64_t> content_length);
  void send_body(std::string body);
  void send_shared_body(std::shared_ptr<const std::string> body);
  void start_file_body(int fd, std::int64_t offset, std::int64_t length);
  void start_files_body(std::vector<FileSlice> files);
  void write_chunk(std::string chunk);
  void write_file_chunk(const BeneathPath& path, std::function<void(bool ok)> done);
  void flush_head();
  void finish_response(bool chunked_terminator);
  void abort_response();
  bool can_write_more() const;
  bool head_only() const { return request_.is_head(); }
  bool chunked() const { return chunked_; }
  // The body is produced over time (begin_stream), sized or not: a client that hangs
  // up meanwhile is gone, and the producer is told at once.
  void mark_streaming() { streaming_ = true; }

 private:
  // A range of a file mapped read-only, unmapped when the last user lets go.
  struct FileMapping {
    void* address = reinterpret_cast<void*>(-1);  // MAP_FAILED
    size_t length = 0;
    ~FileMapping();
  };
  // One uv_write and the bytes it writes: owned strings, or borrowed bytes kept
  // alive by `shared` or `mapping`. Freed in on_write_cb.
  struct WriteRequest {
    uv_write_t req{};
    HttpConnection* connection = nullptr;
    std::string parts[2];
    std::shared_ptr<const std::string> shared;
    std::shared_ptr<FileMapping> mapping;
  };

  static void on_alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) noexcept;
  static void on_read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_write_cb(uv_write_t* req, int status) noexcept;
  static void on_shutdown_cb(uv_shutdown_t* req, int status) noexcept;
  static void on_timer_cb(uv_timer_t* timer) noexcept;
  static void on_close_cb(uv_handle_t* handle) noexcept;
  static void on_file_read_cb(uv_fs_t* req) noexcept;

  static const llhttp_settings_t& parser_settings();
  static int on_message_begin(llhttp_t* parser) noexcept;
  static int on_url(llhttp_t* parser, const char* at, size_t length) noexcept;
  static int on_header_field(llhttp_t* parser, const char* at, size_t length) noexcept;
  static int on_header_value(llhttp_t* parser, const char* at, size_t length) noexcept;
  static int on_headers_complete(llhttp_t* parser) noexcept;
  static int on_body(llhttp_t* parser, const char* at, size_t length) noexcept;
  static int on_message_complete(llhttp_t* parser) noexcept;

  void on_read(ssize_t nread, const uv_buf_t* buf);
  void on_write_done(int status);
  void on_file_read(ssize_t result);
  void drain_input();
  void dispatch();
  void respond_parse_error(int status, std::string_view message);
  void send_canned_and_close(int status, std::string_view message, std::string_view extra_headers);
  void queue_write(std::string first, std::string second);
  bool queue_borrowed_write(WriteRequest* w, const char* data, size_t length);

  void read_next_file_chunk();
  bool write_mapped_chunk();
  void finish_file_body();
  // Opens the next of pending_files_ and streams it; false when none is left.
  bool start_next_file();
  void response_done(bool completed);
  void shutdown_and_close();
  void start_reading();
  void touch();
  // (Re)starts the timer for the nearer of the idle timeout and the request deadline.
  void arm_timer();
  void on_timer();
  void finish_header();
  void maybe_release();

  HttpServer& server_;
  uv_loop_t* loop_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  int open_handles_ = 0;
  bool closing_ = false;
  bool reading_ = false;
  bool draining_ = false;
  bool close_after_response_ = false;
  bool peer_done_ = false;  // the client shut down its side

  llhttp_t parser_{};
  std::string input_;  // received, not yet parsed
  HttpRequest request_;
  std::string header_field_;
  std::string header_value_;
  bool in_header_value_ = false;
  std::size_t header_bytes_ = 0;
  int parse_error_status_ = 0;  // set by a callback that refused the request
  // When the request being received must be complete (uv_now ms), 0 when none is;
  // `deadline_what_` names the part still missing, for the 408 and the log.
  std::uint64_t request_deadline_ = 0;
  std::uint64_t last_activity_ = 0;  // uv_now ms of the last byte moved either way
  const char* deadline_what_ = "";
  std::uint64_t body_bytes_received_ = 0;

  std::unique_ptr<HttpResponse> response_;
  std::string pending_head_;  // the response head, not yet written
  bool response_active_ = false;
  bool chunked_ = false;
  bool streaming_ = false;  // a body produced over time (begin_stream)
  bool keep_alive_ = true;
  std::uint64_t request_started_ns_ = 0;
  std::uint64_t body_bytes_ = 0;
  int writes_in_flight_ = 0;
  static constexpr int kMaxWritesPerTurn = 4;  // see can_write_more()

  // The file body being streamed, if any.
  std::deque<FileSlice> pending_files_;  // send_files: the files after the current one
  // write_file: told when the file being streamed into a body is all queued.
  std::function<void(bool ok)> stream_file_done_;
  int file_fd_ = -1;
  std::int64_t file_offset_ = 0;
  std::int64_t file_remaining_ = 0;
  bool file_read_in_flight_ = false;
  uv_fs_t file_req_{};
  std::string file_chunk_;
  // The file mapped for writing page-cache-resident chunks without copying them;
  // shared with the writes still queued from it. Null when mapping failed.
  std::shared_ptr<FileMapping> file_map_;
  std::int64_t file_map_offset_ = 0;  // file offset of the mapping's first byte
};

}  // namespace wubd::io
