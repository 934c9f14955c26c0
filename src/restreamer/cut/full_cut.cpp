#include "full_cut.h"

#include <fcntl.h>

#include <cstring>

#include <spdlog/spdlog.h>

#include "wubd/media/media_input.h"
#include "wubd/media/media_probe.h"

namespace wubd::restreamer {
namespace {

constexpr std::size_t kInputHighWatermark = 1 << 20;

}  // namespace

FullCut::FullCut(uv_loop_t* loop, CutSlots::Slot slot, core::CutType type,
                 std::vector<std::vector<io::BeneathPath>> inputs, std::vector<core::FullCutInput> ranges, bool fmp4)
    : CutBody(loop, std::move(slot), type == core::CutType::Mp4 ? "video/mp4" : "video/mp2t", "full cut"),
      type_(type),
      fmp4_(fmp4),
      ranges_(std::move(ranges)) {
  for (auto& paths : inputs) {
    Feed feed;
    feed.paths = std::move(paths);
    feeds_.push_back(std::move(feed));
  }
}

void FullCut::run() {
  if (ranges_.size() == 1) return spawn_ffmpeg(core::full_cut_argv(type_, ranges_, true, true));
  // Joining ranges needs to know which of video and audio there is.
  io::BeneathPath first = feeds_.front().paths.front();
  tasks_.compute<core::Result<media::StreamCodecs>>(
      [first] { return media::probe_stream_codecs(first); },
      [this](core::Result<media::StreamCodecs> streams) {
        if (!active()) return;
        if (!streams) return fail(streams.error().message);
        spawn_ffmpeg(core::full_cut_argv(type_, ranges_, streams->has_video, streams->has_audio));
      });
}

std::string FullCut::on_stop() {
  stop_all_feeding();
  if (!child_) return "stopping the full cut";
  child_->kill();  // freed with the body
  return "killing ffmpeg (pid " + std::to_string(child_->pid()) + ")";
}

void FullCut::resume() {
  if (child_) child_->resume_stdout();
}

void FullCut::spawn_ffmpeg(const std::vector<std::string>& argv) {
  child_ = std::make_unique<io::ChildProcess>(loop_);
  io::ChildProcess::Callbacks callbacks;
  callbacks.on_stdout = [this](std::string_view bytes) { on_stdout(bytes); };
  callbacks.on_stderr = [this](std::string_view bytes) { note_stderr(bytes); };
  callbacks.on_exit = [this](std::int64_t status, int signal) { on_exit(status, signal); };
  callbacks.on_input_drained = [this](std::size_t input) { feed(input); };
  if (auto started = child_->spawn(argv, feeds_.size(), std::move(callbacks)); !started) {
    child_.reset();  // never ran: no callback of it is on the stack
    return fail(started.error().message);
  }
  log().debug("cut: ffmpeg pid {} for {} inputs", child_->pid(), feeds_.size());
  for (std::size_t i = 0; i < feeds_.size(); ++i) feed(i);
}

void FullCut::feed(std::size_t input) {
  Feed& feed = feeds_[input];
  if (feed.done || feed.reading || !child_ || !active()) return;
  if (child_->input_queued(input) >= kInputHighWatermark) return;  // on_input_drained resumes
  if (fmp4_) return feed_remuxed(input);
  if (!feed.file) {
    if (feed.next_path == feed.paths.size()) {
      feed.done = true;
      child_->close_input(input);
      return;
    }
    const io::BeneathPath& path = feed.paths[feed.next_path++];
    int fd = io::open_beneath(path, O_RDONLY);
    feed.offset = 0;
    if (fd < 0) return abort_feeding("cannot open " + path.display + ": " + std::strerror(-fd));
    feed.file = std::make_shared<const io::OwnedFd>(fd);
  }
  int rc = tasks_.read(feed.file, feed.offset, kReadChunk,
                       [this, input](ssize_t result, std::string bytes) { on_read(input, result, std::move(bytes)); });
  if (rc != 0) return abort_feeding(std::string("cannot queue a read: ") + uv_err_name(rc));
  feed.reading = true;
}

void FullCut::feed_remuxed(std::size_t input) {
  Feed& feed = feeds_[input];
  if (feed.next_path == feed.paths.size()) {
    if (std::string rest = feed.retimer.finish(); !rest.empty()) child_->write_input(input, std::move(rest));
    feed.done = true;
    child_->close_input(input);
    return;
  }
  io::BeneathPath path = feed.paths[feed.next_path++];
  int rc =
      tasks_.compute<core::Result<std::string>>([path] { return media::remux_to_mpegts(path); },
                                                [this, input](core::Result<std::string> remuxed) {
                                                  Feed& feed = feeds_[input];
                                                  feed.reading = false;
                                                  if (!child_ || feed.done) return;
                                                  if (!remuxed) return abort_feeding(remuxed.error().message);
                                                  // Each file starts a part: whatever its own timestamps, it continues
                                                  // the last.
                                                  std::string bytes = feed.retimer.begin_part();
                                                  bytes += feed.retimer.feed(*remuxed);
                                                  if (!bytes.empty() && !child_->write_input(input, std::move(bytes)))
                                                    return stop_feeding(feed);
                                                  this->feed(input);
                                                });
  if (rc != 0) return abort_feeding(std::string("cannot queue a remux: ") + uv_err_name(rc));
  feed.reading = true;
}

void FullCut::on_read(std::size_t input, ssize_t result, std::string bytes) {
  Feed& feed = feeds_[input];
  feed.reading = false;
  if (!child_ || feed.done) return;
  if (result < 0) return abort_feeding(std::string("read failed: ") + std::strerror(int(-result)));
  if (result == 0) {
    feed.file.reset();
  } else {
    feed.offset += result;
    // EPIPE once ffmpeg has read enough is expected: it stops at the cut's end.
    if (!child_->write_input(input, std::move(bytes))) return stop_feeding(feed);
  }
  this->feed(input);
}

void FullCut::abort_feeding(const std::string& why) {
  log().error("cut: {}", why);
  stderr_tail_ += why;
  if (child_) child_->kill();  // its exit fails the cut, with `why` in the reason
  stop_all_feeding();
}

void FullCut::stop_feeding(Feed& feed) {
  feed.done = true;
  feed.file.reset();  // a read in flight keeps it open until it ends
}

void FullCut::stop_all_feeding() {
  for (Feed& feed : feeds_) stop_feeding(feed);
}

void FullCut::on_stdout(std::string_view bytes) {
  send(std::string(bytes));
  if (!writable() && child_) child_->pause_stdout();
}

void FullCut::on_exit(std::int64_t status, int signal) {
  stop_all_feeding();
  if (status == 0 && signal == 0) return finish();
  fail(exit_reason(status, signal));
}

}  // namespace wubd::restreamer
