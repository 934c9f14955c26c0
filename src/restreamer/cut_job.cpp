#include "cut_job.h"

#include <spdlog/spdlog.h>

#include "wubd/app/logging.h"

namespace wubd::restreamer {

namespace {

struct Read {
  uv_fs_t req{};
  std::shared_ptr<io::OwnedFd> file;  // open until the read is over, whoever else lets go
  std::string buffer;
  std::weak_ptr<bool> alive;
  std::function<void(ssize_t, std::string)> done;
};

}  // namespace

const std::shared_ptr<spdlog::logger>& CutJob::log() {
  static auto logger = app::logger("cut");
  return logger;
}

int CutJob::read_chunk(uv_loop_t* loop, std::shared_ptr<io::OwnedFd> file, std::int64_t offset,
                       std::function<void(ssize_t, std::string)> done) {
  auto* read = new Read;
  int fd = file->get();
  read->file = std::move(file);
  read->buffer.resize(kReadChunk);
  read->alive = alive_;
  read->done = std::move(done);
  read->req.data = read;
  uv_buf_t buf = uv_buf_init(read->buffer.data(), unsigned(kReadChunk));
  int rc = uv_fs_read(loop, &read->req, fd, &buf, 1, offset, [](uv_fs_t* req) {
    std::unique_ptr<Read> r(static_cast<Read*>(req->data));
    ssize_t result = req->result;
    uv_fs_req_cleanup(req);
    if (r->alive.expired()) return;
    r->done(result, std::move(r->buffer));
  });
  if (rc != 0) delete read;
  return rc;
}

void CutJob::note_stderr(std::string_view bytes) {
  stderr_tail_.append(bytes);
  if (stderr_tail_.size() > 2000) stderr_tail_.erase(0, stderr_tail_.size() - 2000);
  log()->warn("ffmpeg: {}", bytes.substr(0, bytes.find_last_not_of('\n') + 1));
}

std::string CutJob::exit_reason(std::int64_t status, int signal) const {
  std::string tail = stderr_tail_.empty() ? "no output" : stderr_tail_;
  while (!tail.empty() && tail.back() == '\n') tail.pop_back();
  return "ffmpeg exited " + std::to_string(status) + (signal ? " (signal " + std::to_string(signal) + ")" : "") +
         ": " + tail;
}

void CutJob::fail_response(io::HttpResponse*& response, const std::string& reason) {
  if (!response) return;
  log()->error("cut failed: {}", reason);
  if (!response->started()) {
    response->send_error(500, reason);
  } else {
    response->abort();
  }
  response = nullptr;
}

void CutJob::send_bytes(io::HttpResponse& response, std::string_view content_type, std::string bytes) {
  if (!response.started()) response.begin_stream(200, content_type);
  response.write(std::move(bytes));
}

void CutJob::finish() {
  if (finished_) return;
  finished_ = true;
  if (on_finished_) on_finished_();
}

}  // namespace wubd::restreamer
