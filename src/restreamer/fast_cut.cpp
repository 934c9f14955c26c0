#include "fast_cut.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include <spdlog/spdlog.h>

#include "wubd/app/logging.h"
#include "wubd/core/cut_plan.h"
#include "wubd/io/media_probe.h"

namespace wubd::restreamer {
namespace {

auto& log() {
  static auto logger = app::logger("cut");
  return logger;
}

constexpr std::size_t kReadChunk = 256 * 1024;

struct Read {
  uv_fs_t req{};
  std::string buffer;
  std::weak_ptr<bool> alive;
  std::function<void(ssize_t, std::string)> done;
};

}  // namespace

FastCut::FastCut(uv_loop_t* loop, std::vector<FastCutStep> steps, io::HttpResponse& response,
                 std::function<void()> on_finished)
    : CutJob(std::move(on_finished)), loop_(loop), steps_(std::move(steps)), response_(&response) {}

FastCut::~FastCut() {
  *alive_ = false;
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
  std::weak_ptr<bool> alive = alive_;
  io::probe_stream_codecs(loop_, steps_.front().path, [this, alive](core::Result<io::StreamCodecs> codecs) {
    if (alive.expired() || !response_) return;
    if (!codecs) return fail(codecs.error().message);
    codecs_ = std::move(*codecs);
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
  if (auto started = child_->spawn(argv, false, std::move(callbacks)); !started) fail(started.error().message);
}

void FastCut::copy_file() {
  if (!response_ || reading_ || fd_ < 0) return;
  if (!response_->writable()) return;  // on_writable resumes
  auto* read = new Read;
  read->buffer.resize(kReadChunk);
  read->alive = alive_;
  read->done = [this](ssize_t result, std::string bytes) {
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
  };
  read->req.data = read;
  uv_buf_t buf = uv_buf_init(read->buffer.data(), unsigned(kReadChunk));
  reading_ = true;
  int rc = uv_fs_read(loop_, &read->req, fd_, &buf, 1, offset_, [](uv_fs_t* req) {
    std::unique_ptr<Read> r(static_cast<Read*>(req->data));
    ssize_t result = req->result;
    uv_fs_req_cleanup(req);
    if (r->alive.expired()) return;
    r->done(result, std::move(r->buffer));
  });
  if (rc != 0) {
    delete read;
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
