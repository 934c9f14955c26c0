#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "wubd/core/result.h"
#include "wubd/io/timer.h"
#include "wubd/io/uv_handle.h"

using CURLM = void;  // curl's multi handle is `typedef void CURLM` in C

// An HTTP client on a libuv loop: libcurl's multi interface driven by the loop, the
// way curl's multi-uv example does it (one uv_poll_t per socket, one uv_timer_t).
// Bodies stream to a callback as they arrive; nothing is buffered whole here.
// Connections are reused across transfers; gzip is accepted and decoded.
namespace wubd::io {

struct FetchOutcome {
  long status = 0;        // the final HTTP status, 0 if none arrived
  bool complete = false;  // every byte of the body arrived and nothing failed
  bool timed_out = false;
  std::string error;  // empty when complete; otherwise what went wrong
  std::uint64_t body_bytes = 0;
  bool cancelled = false;  // stopped by an operator (the transfer engine's cancel)
};

struct FetchRequest {
  std::string url;
  std::string method = "GET";  // GET, or POST with `body`
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
  // 0 means none. The headers timeout runs until the final status line and headers
  // are in; the total timeout until the last byte. A timeout fails the transfer.
  std::uint64_t headers_timeout_ms = 0;
  std::uint64_t total_timeout_ms = 0;
  // curl's receive buffer: bigger means fewer reads and callbacks for large bodies
  // (curl's default is 16 KiB). 0 keeps the default.
  long receive_buffer_bytes = 0;
  // Once, when the final response's headers are in. Returning false stops the
  // transfer (on_done then reports it incomplete with "stopped after headers").
  std::function<bool(long status)> on_headers;
  // Body bytes as they arrive, decoded. Returning false aborts the transfer.
  std::function<bool(std::string_view bytes)> on_data;
  // Asked before each piece of the body, if set: while it says true the transfer is
  // paused (curl keeps the piece and stops reading the socket, so TCP holds the sender
  // back) and it is asked again every few milliseconds. For a consumer that falls
  // behind: the archive's writers when the disk does not keep up with the network.
  std::function<bool()> must_wait;
  // Exactly once per transfer that was not cancelled, after it left curl. It may
  // destroy the owner of the transfer and start or cancel other transfers.
  std::function<void(const FetchOutcome& outcome)> on_done;
};

// Names one request of one HttpClient. Its own type, so that it cannot be mistaken
// for a transfer engine's id (transfers::TransferId), which counts from 1 as well.
enum class RequestId : std::uint64_t { None = 0 };

// Owned by one object on one loop. Call close() and let its callback run before
// destroying it. Callbacks run on the loop, never re-entrantly from start()/cancel().
class HttpClient {
 public:
  explicit HttpClient(uv_loop_t* loop, std::string user_agent = "wubd/0.1");
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts a request. A failure to start (bad option, curl refusing it) still arrives
  // through on_done, on a later loop turn. After close() nothing starts: the id is
  // RequestId::None and on_done never runs.
  RequestId start(FetchRequest request);
  // Stops a request and frees what it holds; its on_done never runs. Unknown or
  // finished ids are ignored.
  void cancel(RequestId id);
  // Requests started and not finished or cancelled, those that failed to start and
  // are waiting to say so included.
  std::size_t active() const { return requests_.size() + failed_.size(); }
  // curl easy handles alive: one per active request, none once they are all over.
  std::size_t easy_handles() const { return easy_handles_; }

  // Cancels every request, closes connections and handles; `on_closed` runs on a later
  // loop turn, once the last of them is closing.
  void close(std::function<void()> on_closed);

  // For tests: the next `count` calls to curl_multi_add_handle are not made and fail
  // as curl fails them when it runs out of memory, so that what curl does only in
  // extremis is exercised.
  void fail_next_adds_for_testing(int count) { failing_adds_ = count; }

 private:
  struct Request;
  struct SocketPoll;

  static int socket_cb(void* easy, int fd, int what, void* userp, void* socketp) noexcept;
  static int timer_cb(CURLM* multi, long timeout_ms, void* userp) noexcept;
  static void on_poll_cb(uv_poll_t* poll, int status, int events) noexcept;
  static void on_curl_timer_cb(uv_timer_t* timer) noexcept;
  static void on_request_timer_cb(uv_timer_t* timer) noexcept;
  static std::size_t header_cb(char* data, std::size_t size, std::size_t count, void* userp) noexcept;
  static std::size_t write_cb(char* data, std::size_t size, std::size_t count, void* userp) noexcept;

  int on_socket(int fd, int what, SocketPoll* poll);
  void socket_action(int fd, int events);
  // Adds a request's easy handle to the multi; false (and the reason in the
  // request) if curl refused it.
  bool add_to_multi(Request& request);
  void drain_finished();
  void deliver_start_failures();
  void finish(Request* request, const FetchOutcome& outcome);
  void remove_request(Request* request);
  void on_request_timer(Request* request);
  // Resumes the paused requests whose must_wait() no longer holds; checks again later
  // while any is still paused.
  void resume_paused();

  uv_loop_t* loop_;
  std::string user_agent_;
  CURLM* multi_ = nullptr;
  UvHandle<uv_timer_t> curl_timer_;
  std::unique_ptr<Timer> resume_timer_;  // runs while a request is paused
  std::uint64_t next_id_ = 1;
  std::map<RequestId, std::unique_ptr<Request>> requests_;
  // Requests that could not start, told so through on_done on a later loop turn.
  std::vector<std::unique_ptr<Request>> failed_;
  std::unique_ptr<Timer> later_;  // start failures and the close callback, on a later turn
  int in_curl_ = 0;               // >0 while inside curl_multi_socket_action
  std::vector<RequestId> deferred_cancels_;
  std::vector<RequestId> deferred_adds_;
  std::map<int, std::unique_ptr<SocketPoll>> polls_;  // by socket
  std::size_t easy_handles_ = 0;
  int failing_adds_ = 0;
  bool closing_ = false;
};

// A small body fetched whole (playlists, JSON listings), at most `max_bytes`.
struct TextResult {
  long status = 0;
  bool complete = false;  // every byte arrived and it fit
  bool timed_out = false;
  std::string body;
  std::string error;  // what went wrong, when not complete
};

// Starts `request` (its on_data/on_done are replaced) and calls `done` once with the
// whole body, unless the transfer is cancelled. A body over `max_bytes` is an error.
RequestId fetch_text(HttpClient& client, FetchRequest request, std::size_t max_bytes,
                     std::function<void(TextResult)> done);

// Resolves `reference` (absolute, or relative as in a playlist) against `base` with
// curl's URL API. Errors say which of the two was bad.
core::Result<std::string> resolve_url(std::string_view base, std::string_view reference);

// The host name of an absolute URL (`http://node-b:8000/` → `node-b`), by curl's URL
// parser.
core::Result<std::string> url_hostname(std::string_view url);

}  // namespace wubd::io
