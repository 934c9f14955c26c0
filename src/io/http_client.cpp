#include "wubd/io/http_client.h"

#include <curl/curl.h>

#include <utility>

#include <spdlog/spdlog.h>

#include "wubd/log/log.h"

namespace wubd::io {

namespace {

spdlog::logger& log() { return log::logger(log::Module::HttpClient); }

// curl's multi calls fail only on bugs of ours or when memory runs out; either way
// the line says which call, and the caller decides what the failure costs.
bool multi_ok(CURLMcode rc, const char* call) {
  if (rc == CURLM_OK) return true;
  log().error("{}: {}", call, curl_multi_strerror(rc));
  return false;
}

// How often paused requests ask must_wait() again: often enough that a drained disk
// queue refills at once, seldom enough to cost nothing while the disk is stalled.
constexpr std::uint64_t kResumeCheckMs = 5;

}  // namespace

struct HttpClient::Request {
  // A member type, not a file-local one: a member of an anonymous-namespace type
  // would be a different type in each unity translation unit (-Wsubobject-linkage).
  struct SlistFree {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
  };
  HttpClient* client = nullptr;
  RequestId id = RequestId::None;
  CURL* easy = nullptr;  // owned: cleaned up with the request
  bool in_multi = false;
  std::unique_ptr<curl_slist, SlistFree> headers;
  FetchRequest fetch;
  UvHandle<uv_timer_t> timer;  // the headers/total timeout
  std::uint64_t started_ms = 0;
  long status = 0;
  bool headers_done = false;
  bool stopped_by_callback = false;
  bool paused = false;      // by must_wait()
  std::string start_error;  // why it could not start
  std::uint64_t body_bytes = 0;
  char error_buffer[CURL_ERROR_SIZE] = {};

  ~Request() {
    if (!easy) return;
    if (in_multi) multi_ok(curl_multi_remove_handle(client->multi_, easy), "curl_multi_remove_handle");
    curl_easy_cleanup(easy);
    --client->easy_handles_;
  }
};

// One per socket curl watches, attached to it with curl_multi_assign.
struct HttpClient::SocketPoll {
  UvHandle<uv_poll_t> poll;
  HttpClient* client = nullptr;
  curl_socket_t fd = CURL_SOCKET_BAD;
};

HttpClient::HttpClient(uv_loop_t* loop, std::string user_agent)
    : loop_(loop),
      user_agent_(std::move(user_agent)),
      resume_timer_(std::make_unique<Timer>(loop)),
      later_(std::make_unique<Timer>(loop)) {
  // Process-wide; curl counts calls, so every client may make one.
  curl_global_init(CURL_GLOBAL_DEFAULT);
  multi_ = curl_multi_init();
  multi_ok(curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &HttpClient::socket_cb), "CURLMOPT_SOCKETFUNCTION");
  multi_ok(curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this), "CURLMOPT_SOCKETDATA");
  multi_ok(curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &HttpClient::timer_cb), "CURLMOPT_TIMERFUNCTION");
  multi_ok(curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this), "CURLMOPT_TIMERDATA");
  curl_timer_.init(uv_timer_init, loop_);
  curl_timer_->data = this;
}

HttpClient::~HttpClient() {
  if (multi_) log().error("HttpClient destroyed without close()");
  curl_global_cleanup();
}

RequestId HttpClient::start(FetchRequest fetch) {
  auto owned = std::make_unique<Request>();
  Request* r = owned.get();
  r->client = this;
  r->id = RequestId{next_id_++};
  r->fetch = std::move(fetch);
  r->started_ms = uv_now(loop_);
  if (closing_) {
    log().error("{}: not started: the client is closing", r->fetch.url);
    return RequestId::None;
  }
  if ((r->easy = curl_easy_init()) == nullptr) {
    r->start_error = "curl_easy_init failed";
  } else {
    ++easy_handles_;
  }
  if (r->easy) {
    CURL* e = r->easy;
    // The first option curl refuses (an old libcurl without one) is the error.
    auto set = [r](CURLoption option, auto value, const char* name) {
      if (CURLcode rc = curl_easy_setopt(r->easy, option, value); rc != CURLE_OK && r->start_error.empty()) {
        r->start_error = std::string(name) + ": " + curl_easy_strerror(rc);
      }
    };
    set(CURLOPT_URL, r->fetch.url.c_str(), "CURLOPT_URL");
    set(CURLOPT_PRIVATE, static_cast<void*>(r), "CURLOPT_PRIVATE");
    set(CURLOPT_NOSIGNAL, 1L, "CURLOPT_NOSIGNAL");
    set(CURLOPT_ERRORBUFFER, r->error_buffer, "CURLOPT_ERRORBUFFER");
    set(CURLOPT_USERAGENT, user_agent_.c_str(), "CURLOPT_USERAGENT");
    set(CURLOPT_ACCEPT_ENCODING, "", "CURLOPT_ACCEPT_ENCODING");  // gzip and deflate, decoded by curl
    set(CURLOPT_FOLLOWLOCATION, 1L, "CURLOPT_FOLLOWLOCATION");
    set(CURLOPT_MAXREDIRS, 5L, "CURLOPT_MAXREDIRS");
    set(CURLOPT_PROTOCOLS_STR, "http,https", "CURLOPT_PROTOCOLS_STR");
    set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https", "CURLOPT_REDIR_PROTOCOLS_STR");
    set(CURLOPT_HEADERFUNCTION, &HttpClient::header_cb, "CURLOPT_HEADERFUNCTION");
    set(CURLOPT_HEADERDATA, static_cast<void*>(r), "CURLOPT_HEADERDATA");
    set(CURLOPT_WRITEFUNCTION, &HttpClient::write_cb, "CURLOPT_WRITEFUNCTION");
    set(CURLOPT_WRITEDATA, static_cast<void*>(r), "CURLOPT_WRITEDATA");
    if (r->fetch.receive_buffer_bytes > 0) set(CURLOPT_BUFFERSIZE, r->fetch.receive_buffer_bytes, "CURLOPT_BUFFERSIZE");
    if (r->fetch.method == "POST") {
      set(CURLOPT_POSTFIELDSIZE, long(r->fetch.body.size()), "CURLOPT_POSTFIELDSIZE");
      set(CURLOPT_POSTFIELDS, r->fetch.body.c_str(), "CURLOPT_POSTFIELDS");
    }
    curl_slist* headers = nullptr;
    for (const std::string& header : r->fetch.headers) headers = curl_slist_append(headers, header.c_str());
    r->headers.reset(headers);
    if (headers) set(CURLOPT_HTTPHEADER, headers, "CURLOPT_HTTPHEADER");
    (void)e;
  }
  RequestId id = r->id;
  if (r->start_error.empty()) {
    if (in_curl_) {
      // Called from inside one of curl's callbacks, where curl refuses new handles:
      // added once curl has returned (socket_action).
      deferred_adds_.push_back(id);
    } else {
      add_to_multi(*r);
    }
  }
  if (!r->start_error.empty()) {
    failed_.push_back(std::move(owned));
    later_->start(0, [this] { deliver_start_failures(); });
    return id;
  }
  std::uint64_t first_timeout = r->fetch.headers_timeout_ms ? r->fetch.headers_timeout_ms : r->fetch.total_timeout_ms;
  if (first_timeout) {
    r->timer.init(uv_timer_init, loop_);
    r->timer->data = r;
    uv_timer_start(r->timer.get(), &HttpClient::on_request_timer_cb, first_timeout, 0);
  }
  requests_.emplace(id, std::move(owned));
  return id;
}

bool HttpClient::add_to_multi(Request& r) {
  CURLMcode rc = failing_adds_ > 0 ? CURLM_OUT_OF_MEMORY : curl_multi_add_handle(multi_, r.easy);
  if (failing_adds_ > 0) --failing_adds_;
  if (rc == CURLM_OK) {
    r.in_multi = true;
    return true;
  }
  r.start_error = std::string("curl_multi_add_handle: ") + curl_multi_strerror(rc);
  log().error("cannot start {}: {}", r.fetch.url, r.start_error);
  return false;
}

void HttpClient::deliver_start_failures() {
  for (auto& r : std::exchange(failed_, {})) {
    FetchOutcome outcome;
    outcome.error = r->start_error;
    auto on_done = std::move(r->fetch.on_done);
    r.reset();  // its easy handle is freed before the owner hears of it
    if (on_done) on_done(outcome);
  }
}

void HttpClient::cancel(RequestId id) {
  // One that failed to start is simply forgotten, with its easy handle.
  std::erase_if(failed_, [id](const std::unique_ptr<Request>& r) { return r->id == id; });
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  // curl forbids removing a handle from inside its own callbacks: defer until
  // curl_multi_socket_action has returned. Its callbacks see it cancelled meanwhile.
  if (in_curl_) {
    it->second->stopped_by_callback = true;
    deferred_cancels_.push_back(id);
    return;
  }
  remove_request(it->second.get());
}

void HttpClient::remove_request(Request* r) {
  requests_.erase(r->id);  // frees it: out of the multi, easy handle and timer closed
}

void HttpClient::finish(Request* r, const FetchOutcome& outcome) {
  auto on_done = std::move(r->fetch.on_done);
  remove_request(r);
  if (on_done) on_done(outcome);
}

int HttpClient::socket_cb(void* /*easy*/, int fd, int what, void* userp, void* socketp) noexcept {
  return static_cast<HttpClient*>(userp)->on_socket(fd, what, static_cast<SocketPoll*>(socketp));
}

int HttpClient::on_socket(int fd, int what, SocketPoll* poll) {
  if (what == CURL_POLL_REMOVE) {
    if (poll) {
      if (multi_) multi_ok(curl_multi_assign(multi_, fd, nullptr), "curl_multi_assign");
      polls_.erase(fd);  // closes its handle
    }
    return 0;
  }
  if (!poll) {
    auto owned = std::make_unique<SocketPoll>();
    if (int rc = owned->poll.init(uv_poll_init_socket, loop_, fd); rc != 0) {
      log().error("uv_poll_init_socket fd {}: {}", fd, uv_err_name(rc));
      return -1;
    }
    poll = owned.get();
    poll->client = this;
    poll->fd = fd;
    poll->poll->data = poll;
    if (!multi_ok(curl_multi_assign(multi_, fd, poll), "curl_multi_assign")) return -1;
    polls_[fd] = std::move(owned);
  }
  int events = 0;
  if (what & CURL_POLL_IN) events |= UV_READABLE;
  if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
  uv_poll_start(poll->poll.get(), events, &HttpClient::on_poll_cb);
  return 0;
}

int HttpClient::timer_cb(CURLM* /*multi*/, long timeout_ms, void* userp) noexcept {
  auto* self = static_cast<HttpClient*>(userp);
  if (!self->curl_timer_) return 0;  // closing
  if (timeout_ms < 0) {
    uv_timer_stop(self->curl_timer_.get());
  } else {
    // 0 means "call me soon": schedule it, never recurse into curl from here.
    uv_timer_start(self->curl_timer_.get(), &HttpClient::on_curl_timer_cb, std::uint64_t(timeout_ms), 0);
  }
  return 0;
}

void HttpClient::on_poll_cb(uv_poll_t* handle, int status, int events) noexcept {
  auto* poll = static_cast<SocketPoll*>(handle->data);
  int flags = 0;
  if (status < 0) {
    flags = CURL_CSELECT_ERR;
  } else {
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  }
  poll->client->socket_action(poll->fd, flags);
}

void HttpClient::on_curl_timer_cb(uv_timer_t* timer) noexcept {
  static_cast<HttpClient*>(timer->data)->socket_action(CURL_SOCKET_TIMEOUT, 0);
}

void HttpClient::socket_action(int fd, int events) {
  int running = 0;
  ++in_curl_;
  CURLMcode rc = curl_multi_socket_action(multi_, fd, events, &running);
  --in_curl_;
  multi_ok(rc, "curl_multi_socket_action");
  for (RequestId id : std::exchange(deferred_cancels_, {})) {
    auto it = requests_.find(id);
    if (it != requests_.end()) remove_request(it->second.get());
  }
  for (RequestId id : std::exchange(deferred_adds_, {})) {
    auto it = requests_.find(id);
    if (it == requests_.end() || add_to_multi(*it->second)) continue;
    // Refused: it fails like any request that ends in error, now, not never.
    FetchOutcome outcome;
    outcome.error = it->second->start_error;
    finish(it->second.get(), outcome);
  }
  drain_finished();
}

void HttpClient::drain_finished() {
  int pending = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_, &pending)) {
    if (message->msg != CURLMSG_DONE) continue;
    Request* r = nullptr;
    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&r));
    if (!r || !requests_.count(r->id)) continue;
    CURLcode result = message->data.result;
    FetchOutcome outcome;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &outcome.status);
    outcome.body_bytes = r->body_bytes;
    outcome.complete = result == CURLE_OK && !r->stopped_by_callback;
    if (r->stopped_by_callback) {
      outcome.error = r->headers_done && r->body_bytes == 0 ? "stopped after headers" : "stopped by the receiver";
    } else if (result != CURLE_OK) {
      outcome.error = r->error_buffer[0] ? r->error_buffer : curl_easy_strerror(result);
      outcome.timed_out = result == CURLE_OPERATION_TIMEDOUT;
    }
    finish(r, outcome);
  }
}

std::size_t HttpClient::header_cb(char* data, std::size_t size, std::size_t count, void* userp) noexcept {
  auto* r = static_cast<Request*>(userp);
  std::size_t length = size * count;
  if (r->stopped_by_callback) return 0;
  std::string_view line(data, length);
  if (line != "\r\n" && line != "\n") return length;
  // The end of one header block. Interim (1xx) and followed redirects have more.
  long status = 0;
  curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200) return length;
  if (status >= 300 && status < 400) {
    char* location = nullptr;
    curl_easy_getinfo(r->easy, CURLINFO_REDIRECT_URL, &location);
    if (location) return length;
  }
  if (r->headers_done) return length;
  r->headers_done = true;
  r->status = status;
  if (r->timer) {
    if (r->fetch.total_timeout_ms) {
      std::uint64_t elapsed = uv_now(r->client->loop_) - r->started_ms;
      std::uint64_t left = r->fetch.total_timeout_ms > elapsed ? r->fetch.total_timeout_ms - elapsed : 1;
      uv_timer_start(r->timer.get(), &HttpClient::on_request_timer_cb, left, 0);
    } else {
      uv_timer_stop(r->timer.get());
    }
  }
  if (r->fetch.on_headers && !r->fetch.on_headers(status)) {
    r->stopped_by_callback = true;
    return 0;
  }
  return length;
}

std::size_t HttpClient::write_cb(char* data, std::size_t size, std::size_t count, void* userp) noexcept {
  auto* r = static_cast<Request*>(userp);
  std::size_t length = size * count;
  if (r->stopped_by_callback) return 0;
  if (r->fetch.must_wait && r->fetch.must_wait()) {
    // curl hands this piece over again once resumed.
    r->paused = true;
    if (!r->client->resume_timer_->active()) {
      r->client->resume_timer_->start(kResumeCheckMs, [client = r->client] { client->resume_paused(); });
    }
    return CURL_WRITEFUNC_PAUSE;
  }
  r->body_bytes += length;
  if (r->fetch.on_data && !r->fetch.on_data(std::string_view(data, length))) {
    r->stopped_by_callback = true;
    return 0;
  }
  return length;
}

void HttpClient::resume_paused() {
  bool still_paused = false;
  // Resuming hands the kept piece to the write callback at once, which may pause the
  // request again; collected first, since a callback may start or finish requests.
  std::vector<RequestId> paused;
  for (const auto& [id, request] : requests_) {
    if (request->paused) paused.push_back(id);
  }
  for (RequestId id : paused) {
    auto it = requests_.find(id);
    if (it == requests_.end()) continue;
    Request* r = it->second.get();
    if (r->fetch.must_wait && r->fetch.must_wait()) {
      still_paused = true;
      continue;
    }
    r->paused = false;
    curl_easy_pause(r->easy, CURLPAUSE_CONT);
  }
  if (still_paused && !closing_) resume_timer_->start(kResumeCheckMs, [this] { resume_paused(); });
}

void HttpClient::on_request_timer_cb(uv_timer_t* timer) noexcept {
  auto* r = static_cast<Request*>(timer->data);
  r->client->on_request_timer(r);
}

void HttpClient::on_request_timer(Request* r) {
  FetchOutcome outcome;
  outcome.status = r->status;
  outcome.timed_out = true;
  outcome.body_bytes = r->body_bytes;
  std::uint64_t elapsed = uv_now(loop_) - r->started_ms;
  outcome.error = r->headers_done ? fmt::format("timed out after {} ms without the whole body", elapsed)
                                  : fmt::format("timed out after {} ms waiting for headers", elapsed);
  finish(r, outcome);
}

void HttpClient::close(std::function<void()> on_closed) {
  if (closing_) return;
  closing_ = true;
  requests_.clear();  // each leaves the multi and frees its handles
  failed_.clear();
  // Closes cached connections, which removes their polls through socket_cb.
  CURLM* multi = multi_;
  multi_ = nullptr;
  multi_ok(curl_multi_cleanup(multi), "curl_multi_cleanup");
  polls_.clear();  // any curl did not hand back while cleaning up
  curl_timer_.close();
  resume_timer_.reset();
  // Told on a later turn, never inside close(); the timer that tells it is the last
  // handle, and closes with it.
  later_->start(0, [this, on_closed = std::move(on_closed)] {
    later_.reset();
    if (on_closed) on_closed();
  });
}

RequestId fetch_text(HttpClient& client, FetchRequest request, std::size_t max_bytes,
                     std::function<void(TextResult)> done) {
  auto text = std::make_shared<TextResult>();
  request.on_data = [text, max_bytes](std::string_view bytes) {
    if (text->body.size() + bytes.size() > max_bytes) {
      text->error = "body larger than " + std::to_string(max_bytes) + " bytes";
      return false;
    }
    text->body.append(bytes);
    return true;
  };
  request.on_done = [text, done = std::move(done)](const FetchOutcome& outcome) {
    text->status = outcome.status;
    text->complete = outcome.complete;
    text->timed_out = outcome.timed_out;
    if (text->error.empty()) text->error = outcome.error;
    done(std::move(*text));
  };
  return client.start(std::move(request));
}

core::Result<std::string> resolve_url(std::string_view base, std::string_view reference) {
  CURLU* url = curl_url();
  std::string base_text(base), reference_text(reference);
  CURLUcode rc = curl_url_set(url, CURLUPART_URL, base_text.c_str(), 0);
  if (rc != CURLUE_OK) {
    curl_url_cleanup(url);
    return core::make_error("bad base URL \"" + base_text + "\": " + curl_url_strerror(rc));
  }
  rc = curl_url_set(url, CURLUPART_URL, reference_text.c_str(), 0);
  if (rc != CURLUE_OK) {
    curl_url_cleanup(url);
    return core::make_error("bad URI \"" + reference_text + "\" relative to \"" + base_text +
                            "\": " + curl_url_strerror(rc));
  }
  char* full = nullptr;
  rc = curl_url_get(url, CURLUPART_URL, &full, 0);
  std::string result = full ? full : "";
  curl_free(full);
  curl_url_cleanup(url);
  if (rc != CURLUE_OK) return core::make_error("cannot resolve \"" + reference_text + "\": " + curl_url_strerror(rc));
  return result;
}

core::Result<std::string> url_hostname(std::string_view url) {
  CURLU* parsed = curl_url();
  std::string text(url);
  CURLUcode rc = curl_url_set(parsed, CURLUPART_URL, text.c_str(), 0);
  char* host = nullptr;
  if (rc == CURLUE_OK) rc = curl_url_get(parsed, CURLUPART_HOST, &host, 0);
  std::string result = host ? host : "";
  curl_free(host);
  curl_url_cleanup(parsed);
  if (rc != CURLUE_OK) return core::make_error("bad URL \"" + text + "\": " + curl_url_strerror(rc));
  return result;
}

}  // namespace wubd::io
