#include "wubd/io/http_client.h"

#include <curl/curl.h>

#include <utility>

#include <spdlog/spdlog.h>

#include "wubd/app/logging.h"

namespace wubd::io {

struct HttpClient::Request {
  HttpClient* client = nullptr;
  RequestId id = RequestId::None;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  FetchRequest request;
  uv_timer_t* timer = nullptr;  // headers/total timeout; owned, freed in its close callback
  std::uint64_t started_ms = 0;
  long status = 0;
  bool headers_done = false;
  bool stopped_by_callback = false;
  bool timed_out = false;
  bool cancelled = false;
  std::string timeout_message;
  std::string start_error;  // set when the transfer could not even start
  std::uint64_t body_bytes = 0;
  char error_buffer[CURL_ERROR_SIZE] = {};
};

// One per socket curl watches, attached to it with curl_multi_assign.
struct HttpClient::SocketPoll {
  uv_poll_t poll{};
  HttpClient* client = nullptr;
  curl_socket_t fd = CURL_SOCKET_BAD;
};

namespace {

std::uint64_t now_ms(uv_loop_t* loop) { return uv_now(loop); }

}  // namespace

HttpClient::HttpClient(uv_loop_t* loop, std::string user_agent)
    : loop_(loop), user_agent_(std::move(user_agent)) {
  // Process-wide; curl counts calls, so every client may make one.
  curl_global_init(CURL_GLOBAL_DEFAULT);
  multi_ = curl_multi_init();
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &HttpClient::socket_cb);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &HttpClient::timer_cb);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  uv_timer_init(loop_, &curl_timer_);
  curl_timer_.data = this;
  uv_idle_init(loop_, &failure_idle_);
  failure_idle_.data = this;
  open_handles_ = 2;
}

HttpClient::~HttpClient() {
  if (multi_) {
    app::logger("http_client")->error("HttpClient destroyed without close()");
  }
  curl_global_cleanup();
}

RequestId HttpClient::start(FetchRequest request) {
  auto transfer = std::make_unique<Request>();
  Request* t = transfer.get();
  t->client = this;
  t->id = RequestId{next_id_++};
  t->request = std::move(request);
  t->started_ms = now_ms(loop_);
  if (closing_) {
    t->start_error = "client is closing";
  } else {
    t->easy = curl_easy_init();
  }
  if (t->easy) {
    CURL* e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, t->request.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error_buffer);
    curl_easy_setopt(e, CURLOPT_USERAGENT, user_agent_.c_str());
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // gzip and deflate, decoded by curl
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &HttpClient::header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &HttpClient::write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    if (t->request.receive_buffer_bytes > 0) curl_easy_setopt(e, CURLOPT_BUFFERSIZE, t->request.receive_buffer_bytes);
    if (t->request.method == "POST") {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, long(t->request.body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->request.body.c_str());
    }
    for (const std::string& header : t->request.headers) t->headers = curl_slist_append(t->headers, header.c_str());
    if (t->headers) curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    if (in_curl_) {
      // Called from inside one of curl's callbacks: add it once curl has returned.
      deferred_adds_.push_back(t->id);
    } else if (CURLMcode rc = curl_multi_add_handle(multi_, e); rc != CURLM_OK) {
      t->start_error = std::string("curl_multi_add_handle: ") + curl_multi_strerror(rc);
    }
  } else if (t->start_error.empty()) {
    t->start_error = "curl_easy_init failed";
  }
  RequestId id = t->id;
  if (!t->start_error.empty()) {
    failed_at_start_.push_back(std::move(transfer));
    uv_idle_start(&failure_idle_, [](uv_idle_t* idle) {
      auto* self = static_cast<HttpClient*>(idle->data);
      uv_idle_stop(idle);
      auto failed = std::move(self->failed_at_start_);
      for (auto& t : failed) {
        if (t->cancelled) continue;
        if (t->easy) curl_easy_cleanup(t->easy);
        curl_slist_free_all(t->headers);
        FetchOutcome outcome;
        outcome.error = t->start_error;
        if (t->request.on_done) t->request.on_done(outcome);
      }
    });
    return id;
  }
  std::uint64_t first_timeout = t->request.headers_timeout_ms ? t->request.headers_timeout_ms
                                                              : t->request.total_timeout_ms;
  if (first_timeout) {
    t->timer = new uv_timer_t{};
    uv_timer_init(loop_, t->timer);
    ++open_handles_;
    t->timer->data = t;
    uv_timer_start(t->timer, &HttpClient::on_request_timer_cb, first_timeout, 0);
  }
  requests_.emplace(id, std::move(transfer));
  return id;
}

void HttpClient::cancel(RequestId id) {
  for (auto& t : failed_at_start_) {
    if (t->id == id) t->cancelled = true;
  }
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  it->second->cancelled = true;
  // curl forbids removing a handle from inside its own callbacks: defer until
  // curl_multi_socket_action has returned.
  if (in_curl_) {
    deferred_cancels_.push_back(id);
    return;
  }
  remove_request(it->second.get());
}

void HttpClient::remove_request(Request* t) {
  curl_multi_remove_handle(multi_, t->easy);
  curl_easy_cleanup(t->easy);
  curl_slist_free_all(t->headers);
  if (t->timer) {
    uv_timer_stop(t->timer);
    close_handle(reinterpret_cast<uv_handle_t*>(t->timer));
    t->timer = nullptr;
  }
  requests_.erase(t->id);  // frees t
}

void HttpClient::finish(Request* t, FetchOutcome outcome) {
  auto on_done = std::move(t->request.on_done);
  remove_request(t);
  if (on_done) on_done(outcome);
}

int HttpClient::socket_cb(void* /*easy*/, int fd, int what, void* userp, void* socketp) noexcept {
  return static_cast<HttpClient*>(userp)->on_socket(fd, what, static_cast<SocketPoll*>(socketp));
}

int HttpClient::on_socket(int fd, int what, SocketPoll* poll) {
  if (what == CURL_POLL_REMOVE) {
    if (poll) {
      uv_poll_stop(&poll->poll);
      if (multi_) curl_multi_assign(multi_, fd, nullptr);
      polls_.erase(poll);
      close_handle(reinterpret_cast<uv_handle_t*>(&poll->poll));
    }
    return 0;
  }
  if (!poll) {
    poll = new SocketPoll{};
    poll->client = this;
    poll->fd = fd;
    if (int rc = uv_poll_init_socket(loop_, &poll->poll, fd); rc != 0) {
      app::logger("http_client")->error("uv_poll_init_socket fd {}: {}", fd, uv_err_name(rc));
      delete poll;
      return -1;
    }
    ++open_handles_;
    polls_.insert(poll);
    poll->poll.data = poll;
    curl_multi_assign(multi_, fd, poll);
  }
  int events = 0;
  if (what & CURL_POLL_IN) events |= UV_READABLE;
  if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
  uv_poll_start(&poll->poll, events, &HttpClient::on_poll_cb);
  return 0;
}

int HttpClient::timer_cb(CURLM* /*multi*/, long timeout_ms, void* userp) noexcept {
  auto* self = static_cast<HttpClient*>(userp);
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&self->curl_timer_))) return 0;
  if (timeout_ms < 0) {
    uv_timer_stop(&self->curl_timer_);
  } else {
    // 0 means "call me soon": schedule it, never recurse into curl from here.
    uv_timer_start(&self->curl_timer_, &HttpClient::on_curl_timer_cb, std::uint64_t(timeout_ms), 0);
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
  curl_multi_socket_action(multi_, fd, events, &running);
  --in_curl_;
  auto cancels = std::move(deferred_cancels_);
  for (RequestId id : cancels) {
    auto it = requests_.find(id);
    if (it != requests_.end()) remove_request(it->second.get());
  }
  for (RequestId id : std::exchange(deferred_adds_, {})) {
    auto it = requests_.find(id);
    if (it != requests_.end()) curl_multi_add_handle(multi_, it->second->easy);
  }
  drain_finished();
}

void HttpClient::drain_finished() {
  int pending = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_, &pending)) {
    if (message->msg != CURLMSG_DONE) continue;
    Request* t = nullptr;
    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
    if (!t || t->cancelled) continue;
    CURLcode result = message->data.result;
    FetchOutcome outcome;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &outcome.status);
    outcome.body_bytes = t->body_bytes;
    outcome.complete = result == CURLE_OK && !t->stopped_by_callback;
    if (t->stopped_by_callback) {
      outcome.error = t->headers_done && t->body_bytes == 0 ? "stopped after headers" : "stopped by the receiver";
    } else if (result != CURLE_OK) {
      outcome.error = t->error_buffer[0] ? t->error_buffer : curl_easy_strerror(result);
      outcome.timed_out = result == CURLE_OPERATION_TIMEDOUT;
    }
    finish(t, std::move(outcome));
  }
}

std::size_t HttpClient::header_cb(char* data, std::size_t size, std::size_t count, void* userp) noexcept {
  auto* t = static_cast<Request*>(userp);
  std::size_t length = size * count;
  if (t->cancelled) return 0;
  std::string_view line(data, length);
  if (line != "\r\n" && line != "\n") return length;
  // The end of one header block. Interim (1xx) and followed redirects have more.
  long status = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200) return length;
  if (status >= 300 && status < 400) {
    char* location = nullptr;
    curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &location);
    if (location) return length;
  }
  if (t->headers_done) return length;
  t->headers_done = true;
  t->status = status;
  HttpClient* client = t->client;
  if (t->timer) {
    if (t->request.total_timeout_ms) {
      std::uint64_t elapsed = now_ms(client->loop_) - t->started_ms;
      std::uint64_t left = t->request.total_timeout_ms > elapsed ? t->request.total_timeout_ms - elapsed : 1;
      uv_timer_start(t->timer, &HttpClient::on_request_timer_cb, left, 0);
    } else {
      uv_timer_stop(t->timer);
    }
  }
  if (t->request.on_headers && !t->request.on_headers(status)) {
    t->stopped_by_callback = true;
    return 0;
  }
  return length;
}

std::size_t HttpClient::write_cb(char* data, std::size_t size, std::size_t count, void* userp) noexcept {
  auto* t = static_cast<Request*>(userp);
  std::size_t length = size * count;
  if (t->cancelled) return 0;
  t->body_bytes += length;
  if (t->request.on_data && !t->request.on_data(std::string_view(data, length))) {
    t->stopped_by_callback = true;
    return 0;
  }
  return length;
}

void HttpClient::on_request_timer_cb(uv_timer_t* timer) noexcept {
  auto* t = static_cast<Request*>(timer->data);
  t->client->on_request_timer(t);
}

void HttpClient::on_request_timer(Request* t) {
  FetchOutcome outcome;
  outcome.status = t->status;
  outcome.timed_out = true;
  outcome.body_bytes = t->body_bytes;
  std::uint64_t elapsed = now_ms(loop_) - t->started_ms;
  outcome.error = t->headers_done
                      ? fmt::format("timed out after {} ms without the whole body", elapsed)
                      : fmt::format("timed out after {} ms waiting for headers", elapsed);
  finish(t, std::move(outcome));
}

void HttpClient::close_handle(uv_handle_t* handle) {
  handle->data = this;
  uv_close(handle, &HttpClient::on_handle_closed_cb);
}

void HttpClient::on_handle_closed_cb(uv_handle_t* handle) noexcept {
  auto* self = static_cast<HttpClient*>(handle->data);
  if (handle->type == UV_POLL) {
    delete reinterpret_cast<SocketPoll*>(reinterpret_cast<char*>(handle) - offsetof(SocketPoll, poll));
  } else if (handle != reinterpret_cast<uv_handle_t*>(&self->curl_timer_) &&
             handle != reinterpret_cast<uv_handle_t*>(&self->failure_idle_)) {
    delete reinterpret_cast<uv_timer_t*>(handle);
  }
  --self->open_handles_;
  self->maybe_closed();
}

void HttpClient::close(std::function<void()> on_closed) {
  if (closing_) return;
  closing_ = true;
  on_closed_ = std::move(on_closed);
  while (!requests_.empty()) {
    Request* t = requests_.begin()->second.get();
    t->cancelled = true;
    remove_request(t);
  }
  for (auto& t : failed_at_start_) {
    if (t->easy) curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
  }
  failed_at_start_.clear();
  // Closes cached connections, which removes their polls through socket_cb.
  CURLM* multi = multi_;
  multi_ = nullptr;
  curl_multi_cleanup(multi);
  // Polls curl did not hand back while cleaning up are closed here.
  for (SocketPoll* poll : std::exchange(polls_, {})) {
    uv_poll_stop(&poll->poll);
    close_handle(reinterpret_cast<uv_handle_t*>(&poll->poll));
  }
  uv_timer_stop(&curl_timer_);
  close_handle(reinterpret_cast<uv_handle_t*>(&curl_timer_));
  uv_idle_stop(&failure_idle_);
  close_handle(reinterpret_cast<uv_handle_t*>(&failure_idle_));
}

void HttpClient::maybe_closed() {
  if (closing_ && open_handles_ == 0 && on_closed_) {
    auto callback = std::move(on_closed_);
    on_closed_ = nullptr;
    callback();
  }
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
    return core::make_error("bad URI \"" + reference_text + "\" relative to \"" + base_text + "\": " +
                            curl_url_strerror(rc));
  }
  char* full = nullptr;
  rc = curl_url_get(url, CURLUPART_URL, &full, 0);
  std::string result = full ? full : "";
  curl_free(full);
  curl_url_cleanup(url);
  if (rc != CURLUE_OK) return core::make_error("cannot resolve \"" + reference_text + "\": " + curl_url_strerror(rc));
  return result;
}

}  // namespace wubd::io
