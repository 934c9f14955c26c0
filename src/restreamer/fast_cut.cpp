#include "fast_cut.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include <spdlog/spdlog.h>

#include "wubd/core/cut_plan.h"
#include "wubd/io/media_probe.h"

namespace wubd::restreamer {
FastCut::FastCut(uv_loop_t* loop, std::vector<FastCutStep> steps, io::HttpResponse& response,
                 std::function<void()> on_finished)
    : CutJob(std::move(on_finished)), loop_(loop), steps_(std::move(steps)), response_(&response) {}

FastCut::~FastCut() {
  if (fd_ >= 0) ::close(fd_);
}

void FastCut::start() {
  response_->notify_when_client_leaves();
  response_->on_client_gone = [this] {
    log()->info("cut: client gone; stopping the fast cut");
    response_ = nullptr;
    child_.reset();
    finish();
  };
  response_->on_writable = [this] {
    if (child_) child_->resume_stdout();
    if (fd_ >= 0 && !reading_) copy_file();
  };
  // The codecs of the first segment: the stream does not change codecs mid-way.
  std::weak_ptr<bool> alive = alive_token();
  io::probe_stream_codecs(loop_, steps_.front().path, [this, alive](core::Result<io::StreamCodecs> codecs) {
    if (alive.expired() || !response_) return;
    if (!codecs) return fail(codecs.error().message);
    codecs_ = std::move(codecs->codecs);
    next_step();
  });
}

void FastCut::next_step() {
  if (!response_) return;
  if (step_ == steps_.size()) {
    if (!response_->started()) response_->begin_stream(200, "video/mp2t");
    response_->end();
    response_ = nullptr;
    return finish();
  }
  const FastCutStep& step = steps_[step_++];
  if (!step.trim_start && !step.trim_end) {
    fd_ = ::open(step.path.c_str(), O_RDONLY | O_CLOEXEC);
    offset_ = 0;
    if (fd_ < 0) return fail("cannot open " + step.path + ": " + std::strerror(errno));
    return copy_file();
  }
  // The previous step's child is kept until the job ends: this may run inside its exit.
  if (child_) retired_children_.push_back(std::move(child_));
  child_ = std::make_unique<io::ChildProcess>(loop_);
  io::ChildProcess::Callbacks callbacks;
  callbacks.on_stdout = [this](std::string_view bytes) {
    relay(bytes);
    if (response_ && !response_->writable() && child_) child_->pause_stdout();
  };
  callbacks.on_stderr = [this](std::string_view bytes) { note_stderr(bytes); };
  callbacks.on_exit = [this](std::int64_t status, int signal) {
    if (status != 0 || signal != 0) return fail(exit_reason(status, signal));
    // Freed on the next step's start or with the job, never inside its own callback.
    next_step();
  };
  auto argv = core::trim_segment_argv(step.path, codecs_, step.trim_start, step.trim_end);
  if (auto started = child_->spawn(argv, 0, std::move(callbacks)); !started) fail(started.error().message);
}

void FastCut::copy_file() {
  if (!response_ || reading_ || fd_ < 0) return;
  if (!response_->writable()) return;  // on_writable resumes
  reading_ = true;
  int rc = read_chunk(loop_, fd_, offset_, [this](ssize_t result, std::string bytes) {
    reading_ = false;
    if (!response_) return;
    if (result < 0) return fail(std::string("read failed: ") + uv_err_name(int(result)));
    if (result == 0) {
      ::close(fd_);
      fd_ = -1;
      return next_step();
    }
    bytes.resize(std::size_t(result));
    offset_ += result;
    relay(bytes);
    copy_file();
  });
  if (rc != 0) {
    reading_ = false;
    fail(std::string("read failed: ") + uv_err_name(rc));
  }
}

void FastCut::relay(std::string_view bytes) {
  if (!response_) return;
  if (!response_->started()) response_->begin_stream(200, "video/mp2t");
  response_->write(std::string(bytes));
}

void FastCut::fail(const std::string& reason) {
  fail_response(response_, "fast cut: " + reason);
  finish();
}

}  // namespace wubd::restreamer
