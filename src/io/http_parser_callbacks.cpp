// HttpConnection's llhttp callbacks: each copies what llhttp points at (the spans
// are valid only until llhttp_execute returns) into the request being read, and
// judges the head as it comes (request_rules.h). The connection's reading, writing
// and lifetime are in http_connection.cpp.
#include <algorithm>
#include <cctype>
#include <string>
#include <utility>
#include <variant>

#include "http_connection.h"

namespace wubd::io {
namespace {

HttpConnection* owner(llhttp_t* parser) { return static_cast<HttpConnection*>(parser->data); }

std::string body_too_large(std::uint64_t limit) {
  return "request body too large: this request takes at most " + std::to_string(limit) + " bytes";
}

}  // namespace

// --- llhttp callbacks: copy spans out before llhttp_execute returns -----------------

int HttpConnection::on_message_begin(llhttp_t* parser) noexcept {
  HttpConnection* self = owner(parser);
  self->request_ = HttpRequest{};
  self->request_.client = self->client_;
  self->header_field_.clear();
  self->header_value_.clear();
  self->in_header_value_ = false;
  self->header_bytes_ = 0;
  self->body_bytes_received_ = 0;
  self->method_bytes_.clear();
  const HttpLimits& limits = self->owner_.limits();
  self->request_deadline_ = uv_now(self->loop_) + std::min(limits.header_timeout_ms, limits.idle_timeout_ms);
  self->deadline_what_ = "request head";
  return 0;
}

int HttpConnection::on_method(llhttp_t* parser, const char* at, size_t length) noexcept {
  // Kept only when the method runs on past the end of this read: the rest of this
  // read is still in input_ if the method turns out to be unknown (fuzzing found
  // "GET" kept twice, as a span and in input_).
  HttpConnection* self = owner(parser);
  if (at + length == self->input_.data() + self->input_.size()) self->method_bytes_.append(at, length);
  return 0;
}

int HttpConnection::on_url(llhttp_t* parser, const char* at, size_t length) noexcept {
  HttpConnection* self = owner(parser);
  self->request_.target.append(at, length);
  if (self->request_.target.size() > self->owner_.limits().max_url_bytes) {
    self->refusal_ = Refusal{414, "request URL too long", {}};
    return -1;
  }
  return 0;
}

void HttpConnection::finish_header() {
  std::transform(header_field_.begin(), header_field_.end(), header_field_.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  request_.headers.emplace_back(std::move(header_field_), std::move(header_value_));
  header_field_.clear();
  header_value_.clear();
  in_header_value_ = false;
}

int HttpConnection::on_header_field(llhttp_t* parser, const char* at, size_t length) noexcept {
  HttpConnection* self = owner(parser);
  if (self->in_header_value_) self->finish_header();
  self->header_field_.append(at, length);
  self->header_bytes_ += length;
  if (self->header_bytes_ > self->owner_.limits().max_header_bytes) {
    self->refusal_ = Refusal{431, "request header fields too large", {}};
    return -1;
  }
  return 0;
}

int HttpConnection::on_header_value(llhttp_t* parser, const char* at, size_t length) noexcept {
  HttpConnection* self = owner(parser);
  // llhttp hands a value over in pieces when it is split across reads, and also when a
  // line folds into it (obs-fold, CRLF then a space or tab). A second piece is a fold
  // unless the first ran to the end of its input and this one starts the next input.
  if (self->in_header_value_ && (!self->value_may_continue_ || at != self->input_.data())) {
    self->refusal_ = Refusal{400, "obsolete line folding in the header " + self->header_field_, {}};
    return -1;
  }
  self->value_may_continue_ = at + length == self->input_.data() + self->input_.size();
  if (!self->in_header_value_) self->header_bytes_ += 4;  // ": " and CRLF
  self->in_header_value_ = true;
  self->header_value_.append(at, length);
  self->header_bytes_ += length;
  if (self->header_bytes_ > self->owner_.limits().max_header_bytes) {
    self->refusal_ = Refusal{431, "request header fields too large", {}};
    return -1;
  }
  return 0;
}

int HttpConnection::on_headers_complete(llhttp_t* parser) noexcept {
  HttpConnection* self = owner(parser);
  if (self->in_header_value_ || !self->header_field_.empty()) self->finish_header();
  HttpRequest& r = self->request_;
  r.method = llhttp_method_name(static_cast<llhttp_method_t>(parser->method));
  r.keep_alive = llhttp_should_keep_alive(parser) != 0;
  auto refuse = [self](Refusal refusal) {
    self->refusal_ = std::move(refusal);
    return -1;
  };
  for (const auto& [name, value] : r.headers) {
    if (auto refusal = judge_header_name(name)) return refuse(std::move(*refusal));
  }
  if (auto refusal = judge_head(parser->http_major, parser->http_minor, r.headers)) return refuse(std::move(*refusal));
  auto target = judge_target(r.method, r.target);
  if (auto* refusal = std::get_if<Refusal>(&target)) return refuse(std::move(*refusal));
  if (auto* origin = std::get_if<OriginTarget>(&target)) {
    r.path = std::move(origin->path);
    r.query = std::move(origin->query);
  }
  bool has_body = (parser->flags & F_CHUNKED) || parser->content_length > 0;
  const HttpLimits& limits = self->owner_.limits();
  self->body_limit_ = limits.body_limit ? limits.body_limit(r) : limits.max_body_bytes;
  if (has_body && parser->content_length > self->body_limit_ && !(parser->flags & F_CHUNKED)) {
    self->refusal_ = Refusal{413, body_too_large(self->body_limit_), {}};
    return -1;
  }
  self->request_deadline_ = has_body ? uv_now(self->loop_) + self->owner_.limits().body_timeout_ms : 0;
  self->deadline_what_ = "request body";
  return 0;
}

int HttpConnection::on_body(llhttp_t* parser, const char* at, size_t length) noexcept {
  HttpConnection* self = owner(parser);
  self->body_bytes_received_ += length;
  if (self->body_bytes_received_ > self->body_limit_) {
    self->refusal_ = Refusal{413, body_too_large(self->body_limit_), {}};
    return -1;
  }
  self->request_.body.append(at, length);
  return 0;
}

int HttpConnection::on_message_complete(llhttp_t* parser) noexcept {
  owner(parser)->request_deadline_ = 0;
  // Pause so that one request is answered before the next one is parsed.
  return HPE_PAUSED;
}

const llhttp_settings_t& HttpConnection::parser_settings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = on_message_begin;
    s.on_method = on_method;
    s.on_url = on_url;
    s.on_header_field = on_header_field;
    s.on_header_value = on_header_value;
    s.on_headers_complete = on_headers_complete;
    s.on_body = on_body;
    s.on_message_complete = on_message_complete;
    return s;
  }();
  return settings;
}

}  // namespace wubd::io
