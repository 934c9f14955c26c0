#include "wubd/io/http_response.h"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "http_connection.h"
#include "wubd/app/logging.h"

namespace wubd::io {
namespace {

// A handler that answers twice has a bug; the second answer is dropped, loudly.
bool refuse_second_answer(bool started, int status) {
  if (started) app::logger("http")->error("response already started; dropping a second answer ({})", status);
  return started;
}

}  // namespace

void HttpResponse::send(int status, std::string_view content_type, std::string body) {
  if (refuse_second_answer(started_, status)) return;
  status_ = status;
  started_ = true;
  connection_.send_head(*this, content_type, std::int64_t(body.size()));
  connection_.send_body(std::move(body));
}

void HttpResponse::send_shared(int status, std::string_view content_type,
                               std::shared_ptr<const std::string> body) {
  if (refuse_second_answer(started_, status)) return;
  status_ = status;
  started_ = true;
  connection_.send_head(*this, content_type, std::int64_t(body->size()));
  connection_.send_shared_body(std::move(body));
}

void HttpResponse::send_error(int status, std::string_view message) {
  send(status, "text/plain; charset=utf-8", std::string(message) + "\n");
}

void HttpResponse::send_file(int status, std::string_view content_type, int fd, std::int64_t offset,
                             std::int64_t length) {
  if (refuse_second_answer(started_, status)) {
    ::close(fd);
    return;
  }
  status_ = status;
  started_ = true;
  connection_.send_head(*this, content_type, length);
  connection_.start_file_body(fd, offset, length);
}

void HttpResponse::send_files(int status, std::string_view content_type, std::vector<FileSlice> files) {
  if (refuse_second_answer(started_, status)) return;
  status_ = status;
  started_ = true;
  std::int64_t total = 0;
  for (const FileSlice& file : files) total += file.length;
  connection_.send_head(*this, content_type, total);
  connection_.start_files_body(std::move(files));
}

void HttpResponse::notify_when_client_leaves() { connection_.mark_streaming(); }

void HttpResponse::begin_stream(int status, std::string_view content_type,
                                std::optional<std::int64_t> content_length) {
  if (refuse_second_answer(started_, status)) return;
  status_ = status;
  started_ = true;
  connection_.send_head(*this, content_type, content_length);
  connection_.mark_streaming();
  // Clients see the status at once, before the producer has its first bytes.
  connection_.flush_head();
  if (connection_.head_only()) connection_.finish_response(false);
}

void HttpResponse::write(std::string chunk) {
  if (!finished_) connection_.write_chunk(std::move(chunk));
}

void HttpResponse::write_file(const BeneathPath& path, std::function<void(bool ok)> done) {
  if (finished_) return;
  connection_.write_file_chunk(path, std::move(done));
}

bool HttpResponse::writable() const { return !finished_ && connection_.can_write_more(); }

void HttpResponse::end() {
  if (!finished_) connection_.finish_response(true);
}

void HttpResponse::abort() {
  if (!finished_) connection_.abort_response();
}

}  // namespace wubd::io
