#include "fast_cut.h"

#include <spdlog/spdlog.h>

#include "wubd/core/cut_plan.h"
#include "wubd/io/media_probe.h"

namespace wubd::restreamer {
FastCut::FastCut(uv_loop_t* loop, std::vector<FastCutStep> steps, io::HttpResponse& response,
                 std::function<void()> on_finished)
    : CutJob(std::move(on_finished)), loop_(loop), steps_(std::move(steps)), response_(&response) {}

FastCut::~FastCut() = default;

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
    // A whole segment: its bytes, straight from the page cache.
    if (!response_->started()) response_->begin_stream(200, "video/mp2t");
    return response_->write_file(step.path, [this](bool ok) {
      if (!ok) {
        log()->error("cut failed: fast cut: cannot read a segment");
        response_ = nullptr;  // already aborted
        return finish();
      }
      next_step();
    });
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

void FastCut::relay(std::string_view bytes) {
  if (response_) send_bytes(*response_, "video/mp2t", std::string(bytes));
}

void FastCut::fail(const std::string& reason) {
  fail_response(response_, "fast cut: " + reason);
  finish();
}

}  // namespace wubd::restreamer
