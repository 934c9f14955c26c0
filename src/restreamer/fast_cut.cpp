#include "fast_cut.h"

#include <fcntl.h>

#include <cstring>

#include <spdlog/spdlog.h>

#include "wubd/core/cut_plan.h"
#include "wubd/io/media_input.h"
#include "wubd/io/media_probe.h"
#include "wubd/io/threadpool.h"

namespace wubd::restreamer {
FastCut::FastCut(uv_loop_t* loop, std::vector<FastCutStep> steps, io::HttpResponse& response,
                 std::function<void()> on_finished, bool fmp4)
    : CutJob(std::move(on_finished)), loop_(loop), steps_(std::move(steps)), response_(&response) {
  fmp4_ = fmp4;
  retime_ = fmp4_;
  for (const FastCutStep& step : steps_) retime_ = retime_ || step.new_part;
}

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
    if (copy_waiting_) {
      copy_waiting_ = false;
      read_retimed();
    }
    if (remux_waiting_) {
      remux_waiting_ = false;
      next_step();
    }
  };
  // The codecs of the first segment: the stream does not change codecs mid-way.
  std::weak_ptr<bool> alive = alive_token();
  io::probe_stream_codecs(loop_, steps_.front().path, [this, alive](core::Result<io::StreamCodecs> codecs) {
    if (alive.expired() || !response_) return;
    if (!codecs) return fail(codecs.error().message);
    codecs_ = std::move(codecs->codecs);
    first_start_time_ = codecs->start_time;
    next_step();
  });
}

void FastCut::next_step() {
  if (!response_) return;
  if (step_ == steps_.size()) {
    if (retime_) send_out(retimer_.finish());
    if (!response_->started()) response_->begin_stream(200, "video/mp2t");
    response_->end();
    response_ = nullptr;
    return finish();
  }
  const FastCutStep& step = steps_[step_++];
  if (step.new_part) send_out(retimer_.begin_part());
  if (!step.trim_start && !step.trim_end && fmp4_) return remux_step(step);
  if (!step.trim_start && !step.trim_end && retime_) return copy_retimed(step);
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
  if (step_ == 1) return trim(step, first_start_time_);
  // A later trimmed segment (the tail): its own start time first, since its trim
  // offsets count from it.
  std::weak_ptr<bool> alive = alive_token();
  io::probe_stream_codecs(loop_, step.path, [this, alive, &step](core::Result<io::StreamCodecs> streams) {
    if (alive.expired() || !response_) return;
    if (!streams) return fail(streams.error().message);
    trim(step, streams->start_time);
  });
}

void FastCut::trim(const FastCutStep& step, core::Micros file_start) {
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
  // ffmpeg reads the segment from its stdin, fed from a descriptor opened under the
  // archive's rule (no symlink below the base): it never opens an archive path itself.
  int fd = io::open_beneath(step.path, O_RDONLY);
  if (fd < 0) return fail("cannot open " + step.path.display + ": " + std::strerror(-fd));
  feed_ = std::make_shared<io::OwnedFd>(fd);
  feed_offset_ = 0;
  auto argv = core::trim_segment_argv("pipe:0", codecs_, file_start, step.trim_start, step.trim_end);
  if (auto started = child_->spawn(argv, 1, std::move(callbacks)); !started) return fail(started.error().message);
  feed_child();
}

void FastCut::feed_child() {
  if (!child_ || !feed_) return;
  int rc = read_chunk(loop_, feed_, feed_offset_, [this](ssize_t result, std::string bytes) {
    if (!child_ || !feed_) return;
    if (result < 0) {
      log()->error("cut: read failed: {}", uv_err_name(int(result)));
      feed_.reset();
      return child_->kill();  // its exit fails the cut
    }
    if (result == 0) {
      feed_.reset();
      return child_->close_input(0);
    }
    bytes.resize(std::size_t(result));
    feed_offset_ += result;
    // False once ffmpeg closed its input: it has read all it wants of the segment.
    if (!child_->write_input(0, std::move(bytes))) return feed_.reset();
    feed_child();
  });
  if (rc != 0) {
    feed_.reset();
    child_->kill();
  }
}

void FastCut::relay(std::string_view bytes) {
  send_out(retime_ ? retimer_.feed(bytes) : std::string(bytes));
}

void FastCut::send_out(std::string bytes) {
  if (response_ && !bytes.empty()) send_bytes(*response_, "video/mp2t", std::move(bytes));
}

void FastCut::remux_step(const FastCutStep& step) {
  auto result = std::make_shared<core::Result<std::string>>(core::make_error("not remuxed"));
  std::weak_ptr<bool> alive = alive_token();
  io::BeneathPath path = step.path;
  int rc = io::run_in_threadpool(
      loop_, [result, path] { *result = io::remux_to_mpegts(path); },
      [this, alive, result](int status) {
        if (alive.expired() || !response_) return;
        if (status != 0) return fail(std::string("remux cancelled: ") + uv_err_name(status));
        if (!*result) return fail(result->error().message);
        relay(**result);
        if (!response_) return;
        // One segment at a time: the next waits until the client has taken this one.
        if (response_->writable()) return next_step();
        remux_waiting_ = true;
      });
  if (rc != 0) fail(std::string("cannot queue a remux: ") + uv_err_name(rc));
}

void FastCut::copy_retimed(const FastCutStep& step) {
  int fd = io::open_beneath(step.path, O_RDONLY);
  if (fd < 0) return fail("cannot open " + step.path.display + ": " + std::strerror(-fd));
  copy_file_ = std::make_shared<io::OwnedFd>(fd);
  copy_offset_ = 0;
  read_retimed();
}

void FastCut::read_retimed() {
  if (!response_ || !copy_file_) return;
  if (!response_->writable()) {
    copy_waiting_ = true;  // on_writable resumes
    return;
  }
  int rc = read_chunk(loop_, copy_file_, copy_offset_, [this](ssize_t result, std::string bytes) {
    if (!response_) return;
    if (result < 0) return fail(std::string("cannot read a segment: ") + uv_err_name(int(result)));
    if (result == 0) {
      copy_file_.reset();
      return next_step();
    }
    bytes.resize(std::size_t(result));
    copy_offset_ += result;
    relay(bytes);
    read_retimed();
  });
  if (rc != 0) fail(std::string("cannot read a segment: ") + uv_err_name(rc));
}

void FastCut::fail(const std::string& reason) {
  fail_response(response_, "fast cut: " + reason);
  finish();
}

}  // namespace wubd::restreamer
