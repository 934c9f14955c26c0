#include "fed_child.h"

#include <fcntl.h>

#include <cstring>

#include <spdlog/spdlog.h>

#include "wubd/log/log.h"
#include "wubd/media/media_input.h"

namespace wubd::restreamer {
namespace {

constexpr std::size_t kInputHighWatermark = 1 << 20;
constexpr std::size_t kReadChunk = 256 * 1024;

}  // namespace

FedChild::FedChild(uv_loop_t* loop, io::TaskGroup& tasks, std::vector<std::vector<io::BeneathPath>> inputs, bool fmp4)
    : loop_(loop), tasks_(tasks), fmp4_(fmp4) {
  for (auto& paths : inputs) {
    Feed feed;
    feed.paths = std::move(paths);
    feeds_.push_back(std::move(feed));
  }
}

core::Result<bool> FedChild::start(const std::vector<std::string>& argv, Callbacks callbacks,
                                   const std::vector<int>& passed_fds) {
  child_ = std::make_unique<io::ChildProcess>(loop_);
  io::ChildProcess::Callbacks child_callbacks;
  child_callbacks.on_stdout = std::move(callbacks.on_stdout);
  child_callbacks.on_stderr = std::move(callbacks.on_stderr);
  child_callbacks.on_exit = [this, on_exit = std::move(callbacks.on_exit)](std::int64_t status, int signal) {
    stop_all_feeding();
    on_exit(status, signal, feed_error_);
  };
  child_callbacks.on_input_drained = [this](std::size_t input) { feed(input); };
  if (auto started = child_->spawn(argv, feeds_.size(), std::move(child_callbacks), passed_fds); !started) {
    child_.reset();  // never ran: no callback of it is on the stack
    return started;
  }
  for (std::size_t i = 0; i < feeds_.size(); ++i) feed(i);
  return true;
}

void FedChild::pause_output() {
  if (child_) child_->pause_stdout();
}

void FedChild::resume_output() {
  if (child_) child_->resume_stdout();
}

void FedChild::kill() {
  stop_all_feeding();
  if (child_) child_->kill();
}

int FedChild::pid() const { return child_ ? child_->pid() : 0; }

void FedChild::feed(std::size_t input) {
  Feed& feed = feeds_[input];
  if (feed.done || feed.reading || !child_) return;
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

void FedChild::feed_remuxed(std::size_t input) {
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

void FedChild::on_read(std::size_t input, ssize_t result, std::string bytes) {
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

void FedChild::abort_feeding(const std::string& why) {
  log::logger(log::Module::Cut).error("cut: {}", why);
  feed_error_ += why;
  if (child_) child_->kill();  // its exit says why
  stop_all_feeding();
}

void FedChild::stop_feeding(Feed& feed) {
  feed.done = true;
  feed.file.reset();  // a read in flight keeps it open until it ends
}

void FedChild::stop_all_feeding() {
  for (Feed& feed : feeds_) stop_feeding(feed);
}

}  // namespace wubd::restreamer
