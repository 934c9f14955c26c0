#include "full_cut.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include <spdlog/spdlog.h>


namespace wubd::restreamer {
namespace {

constexpr std::size_t kStdinHighWatermark = 1 << 20;

}  // namespace

FullCut::FullCut(uv_loop_t* loop, std::vector<std::string> paths, std::vector<std::string> argv,
                 std::string content_type, io::HttpResponse& response, std::function<void()> on_finished)
    : CutJob(std::move(on_finished)),
      loop_(loop),
      paths_(std::move(paths)),
      argv_(std::move(argv)),
      content_type_(std::move(content_type)),
      response_(&response) {}

FullCut::~FullCut() {
  if (fd_ >= 0) ::close(fd_);
  child_.reset();  // kills ffmpeg if it still runs
}

void FullCut::start() {
  response_->on_client_gone = [this] {
    log()->info("cut: client gone; killing ffmpeg (pid {})", child_ ? child_->pid() : 0);
    response_ = nullptr;
    child_.reset();
    stop_feeding();
    finish();
  };
  response_->notify_when_client_leaves();
  response_->on_writable = [this] {
    if (child_) child_->resume_stdout();
  };
  child_ = std::make_unique<io::ChildProcess>(loop_);
  io::ChildProcess::Callbacks callbacks;
  callbacks.on_stdout = [this](std::string_view bytes) { on_stdout(bytes); };
  callbacks.on_stderr = [this](std::string_view bytes) { note_stderr(bytes); };
  callbacks.on_exit = [this](std::int64_t status, int signal) { on_exit(status, signal); };
  callbacks.on_stdin_drained = [this] { feed(); };
  auto started = child_->spawn(argv_, true, std::move(callbacks));
  if (!started) {
    fail_response(response_, started.error().message);
    child_.reset();
    finish();
    return;
  }
  log()->debug("cut: ffmpeg pid {} for {} segments", child_->pid(), paths_.size());
  feed();
}

void FullCut::feed() {
  if (feeding_done_ || reading_ || !child_) return;
  while (child_->stdin_queued() < kStdinHighWatermark) {
    if (fd_ < 0) {
      if (next_path_ == paths_.size()) {
        feeding_done_ = true;
        child_->close_stdin();
        return;
      }
      const std::string& path = paths_[next_path_++];
      fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      offset_ = 0;
      if (fd_ < 0) {
        log()->error("cut: cannot open {}: {}", path, std::strerror(errno));
        stderr_tail_ += "cannot open " + path;
        child_->kill();
        stop_feeding();
        return;
      }
    }
    int rc = read_chunk(loop_, fd_, offset_, [this](ssize_t result, std::string bytes) {
      reading_ = false;
      chunk_ = std::move(bytes);
      on_read(result);
    });
    if (rc != 0) {
      child_->kill();
      stop_feeding();
      return;
    }
    reading_ = true;
    return;  // on_read continues
  }
}

void FullCut::on_read(ssize_t result) {
  if (!child_) return;
  if (result < 0) {
    log()->error("cut: read failed: {}", uv_err_name(int(result)));
    child_->kill();
    stop_feeding();
    return;
  }
  if (result == 0) {
    ::close(fd_);
    fd_ = -1;
  } else {
    chunk_.resize(std::size_t(result));
    offset_ += result;
    // EPIPE once ffmpeg has read enough is expected: it stops at the cut's end.
    if (!child_->write_stdin(std::move(chunk_))) {
      stop_feeding();
      return;
    }
  }
  feed();
}

void FullCut::stop_feeding() {
  feeding_done_ = true;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void FullCut::on_stdout(std::string_view bytes) {
  if (!response_) return;
  if (!response_->started()) response_->begin_stream(200, content_type_);
  response_->write(std::string(bytes));
  if (!response_->writable() && child_) child_->pause_stdout();
}

void FullCut::on_exit(std::int64_t status, int signal) {
  if (response_) {
    if (status == 0 && signal == 0) {
      if (!response_->started()) response_->begin_stream(200, content_type_);
      response_->end();
      response_ = nullptr;
    } else {
      fail_response(response_, exit_reason(status, signal));
    }
  }
  stop_feeding();
  finish();
}

}  // namespace wubd::restreamer
