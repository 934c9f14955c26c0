#include "fast_cut.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

#include <spdlog/spdlog.h>

#include "wubd/core/cut_plan.h"
#include "wubd/io/lifetime.h"
#include "wubd/media/media_input.h"
#include "wubd/media/media_probe.h"

namespace wubd::restreamer {

FastCut::FastCut(uv_loop_t* loop, CutSlots::Slot slot, std::vector<FastCutStep> steps, bool fmp4)
    : CutBody(loop, std::move(slot), "video/mp2t", "fast cut"), steps_(std::move(steps)), fmp4_(fmp4), streamer_(loop) {
  retime_ = fmp4_;
  for (const FastCutStep& step : steps_) retime_ = retime_ || step.new_part;
}

void FastCut::run() {
  // The codecs of the first segment: the stream does not change codecs mid-way.
  io::BeneathPath first = steps_.front().path;
  tasks_.compute<core::Result<media::StreamCodecs>>([first] { return media::probe_stream_codecs(first); },
                                                    [this](core::Result<media::StreamCodecs> codecs) {
                                                      if (!active()) return;
                                                      if (!codecs) return fail(codecs.error().message);
                                                      codecs_ = std::move(codecs->codecs);
                                                      has_video_ = codecs->has_video;
                                                      has_audio_ = codecs->has_audio;
                                                      first_start_time_ = codecs->start_time;
                                                      next_step();
                                                    });
}

std::string FastCut::on_stop() {
  if (transition_) {
    transition_->kill();
    return "killing ffmpeg making a transition (pid " + std::to_string(transition_->pid()) + ")";
  }
  if (!child_ || !child_->running()) return "stopping the fast cut";
  child_->kill();  // freed with the body
  return "killing ffmpeg (pid " + std::to_string(child_->pid()) + ")";
}

void FastCut::resume() {
  if (child_) child_->resume_stdout();
  if (transition_) transition_->resume_output();
  streamer_.resume();
  if (copy_waiting_) {
    copy_waiting_ = false;
    read_retimed();
  }
  if (remux_waiting_) {
    remux_waiting_ = false;
    next_step();
  }
}

void FastCut::next_step() {
  if (!active()) return;
  if (step_ == steps_.size()) {
    if (retime_) send(retimer_.finish());
    return finish();
  }
  const FastCutStep& step = steps_[step_++];
  if (step.new_part) send(retimer_.begin_part());
  if (step.transition) return make_transition(*step.transition);
  if (!step.trim_start && !step.trim_end && fmp4_) return remux_step(step);
  if (!step.trim_start && !step.trim_end && retime_) return copy_retimed(step);
  if (!step.trim_start && !step.trim_end) {
    // A whole segment: its bytes, straight from the page cache.
    int fd = io::open_beneath(step.path, O_RDONLY);
    if (fd < 0) return fail("cannot open " + step.path.display + ": " + std::strerror(-fd));
    auto file = std::make_shared<const io::OwnedFd>(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return fail("cannot read " + step.path.display + ": " + std::strerror(errno));
    if (!out_->began()) out_->begin(200, "video/mp2t", std::nullopt);
    return streamer_.stream(*out_, file, 0, st.st_size, step.path.display, [this](bool ok) {
      if (!ok) return fail("cannot read a segment");
      next_step();
    });
  }
  if (step_ == 1) return trim(step, first_start_time_);
  // A later trimmed segment (the tail): its own start time first, since its trim
  // offsets count from it.
  io::BeneathPath path = step.path;
  tasks_.compute<core::Result<media::StreamCodecs>>([path] { return media::probe_stream_codecs(path); },
                                                    [this, &step](core::Result<media::StreamCodecs> streams) {
                                                      if (!active()) return;
                                                      if (!streams) return fail(streams.error().message);
                                                      trim(step, streams->start_time);
                                                    });
}

void FastCut::retire_child() {
  feed_.reset();
  if (child_) io::defer_delete(loop_, std::move(child_));
  if (transition_) io::defer_delete(loop_, std::move(transition_));
}

void FastCut::make_transition(const TransitionFiles& transition) {
  retire_child();  // the previous step's: this may run inside its exit
  std::string video_codec;
  for (const std::string& codec : codecs_) {
    if (!codec.empty()) video_codec = codec;
  }
  transition_ = std::make_unique<FedChild>(loop_, tasks_, std::vector{transition.from, transition.to}, false);
  FedChild::Callbacks callbacks;
  callbacks.on_stdout = [this](std::string_view bytes) {
    relay(bytes);
    if (!writable() && transition_) transition_->pause_output();
  };
  callbacks.on_stderr = [this](std::string_view bytes) { note_stderr(bytes); };
  callbacks.on_exit = [this](std::int64_t status, int signal, const std::string& feed_error) {
    stderr_tail_ += feed_error;
    if (status != 0 || signal != 0) return fail(exit_reason(status, signal));
    next_step();
  };
  auto argv = core::transition_argv(transition.clip, video_codec, has_video_, has_audio_);
  if (auto started = transition_->start(argv, std::move(callbacks)); !started) return fail(started.error().message);
  log().debug("cut: ffmpeg pid {} making a {} transition", transition_->pid(), transition.clip.transition.type);
}

void FastCut::trim(const FastCutStep& step, core::Micros file_start) {
  retire_child();  // the previous step's: this may run inside its exit
  child_ = std::make_unique<io::ChildProcess>(loop_);
  io::ChildProcess::Callbacks callbacks;
  callbacks.on_stdout = [this](std::string_view bytes) {
    relay(bytes);
    if (!writable() && child_) child_->pause_stdout();
  };
  callbacks.on_stderr = [this](std::string_view bytes) { note_stderr(bytes); };
  callbacks.on_exit = [this](std::int64_t status, int signal) {
    if (status != 0 || signal != 0) return fail(exit_reason(status, signal));
    next_step();
  };
  // ffmpeg reads the segment from its stdin, fed from a descriptor opened under the
  // archive's rule (no symlink below the base): it never opens an archive path itself.
  int fd = io::open_beneath(step.path, O_RDONLY);
  if (fd < 0) return fail("cannot open " + step.path.display + ": " + std::strerror(-fd));
  feed_ = std::make_shared<const io::OwnedFd>(fd);
  feed_offset_ = 0;
  auto argv = core::trim_segment_argv("pipe:0", codecs_, file_start, step.trim_start, step.trim_end);
  if (auto started = child_->spawn(argv, 1, std::move(callbacks)); !started) return fail(started.error().message);
  feed_child();
}

void FastCut::feed_child() {
  if (!child_ || !feed_) return;
  int rc = tasks_.read(feed_, feed_offset_, kReadChunk, [this](ssize_t result, std::string bytes) {
    if (!child_ || !feed_) return;
    if (result < 0) {
      log().error("cut: read failed: {}", std::strerror(int(-result)));
      feed_.reset();
      return child_->kill();  // its exit fails the cut
    }
    if (result == 0) {
      feed_.reset();
      return child_->close_input(0);
    }
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

void FastCut::relay(std::string_view bytes) { send(retime_ ? retimer_.feed(bytes) : std::string(bytes)); }

void FastCut::remux_step(const FastCutStep& step) {
  io::BeneathPath path = step.path;
  int rc = tasks_.compute<core::Result<std::string>>([path] { return media::remux_to_mpegts(path); },
                                                     [this](core::Result<std::string> remuxed) {
                                                       if (!active()) return;
                                                       if (!remuxed) return fail(remuxed.error().message);
                                                       relay(*remuxed);
                                                       // One segment at a time: the next waits until the client has
                                                       // taken this one.
                                                       if (writable()) return next_step();
                                                       remux_waiting_ = true;
                                                     });
  if (rc != 0) fail(std::string("cannot queue a remux: ") + uv_err_name(rc));
}

void FastCut::copy_retimed(const FastCutStep& step) {
  int fd = io::open_beneath(step.path, O_RDONLY);
  if (fd < 0) return fail("cannot open " + step.path.display + ": " + std::strerror(-fd));
  copy_file_ = std::make_shared<const io::OwnedFd>(fd);
  copy_offset_ = 0;
  read_retimed();
}

void FastCut::read_retimed() {
  if (!active() || !copy_file_) return;
  if (!writable()) {
    copy_waiting_ = true;  // resume() carries on
    return;
  }
  int rc = tasks_.read(copy_file_, copy_offset_, kReadChunk, [this](ssize_t result, const std::string& bytes) {
    if (!active()) return;
    if (result < 0) return fail(std::string("cannot read a segment: ") + std::strerror(int(-result)));
    if (result == 0) {
      copy_file_.reset();
      return next_step();
    }
    copy_offset_ += result;
    relay(bytes);
    read_retimed();
  });
  if (rc != 0) fail(std::string("cannot read a segment: ") + uv_err_name(rc));
}

}  // namespace wubd::restreamer
