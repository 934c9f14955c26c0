#include "full_cut.h"

#include <fcntl.h>

#include <cstring>

#include <spdlog/spdlog.h>

#include "wubd/io/media_input.h"
#include "wubd/io/media_probe.h"
#include "wubd/io/threadpool.h"

namespace wubd::restreamer {
namespace {

constexpr std::size_t kInputHighWatermark = 1 << 20;

}  // namespace

FullCut::FullCut(uv_loop_t* loop, core::CutType type, std::vector<std::vector<io::BeneathPath>> inputs,
                 std::vector<core::FullCutInput> ranges, io::HttpResponse& response,
                 std::function<void()> on_finished, bool fmp4)
    : CutJob(std::move(on_finished)),
      loop_(loop),
      type_(type),
      ranges_(std::move(ranges)),
      content_type_(type == core::CutType::Mp4 ? "video/mp4" : "video/mp2t"),
      response_(&response) {
  for (auto& paths : inputs) {
    Feed feed;
    feed.paths = std::move(paths);
    feeds_.push_back(std::move(feed));
  }
  fmp4_ = fmp4;
}

FullCut::~FullCut() {
  child_.reset();  // kills ffmpeg if it still runs; a read in flight keeps its file open
}

void FullCut::start() {
  response_->on_client_gone = [this] {
    log()->info("cut: client gone; killing ffmpeg (pid {})", child_ ? child_->pid() : 0);
    response_ = nullptr;
    child_.reset();
    stop_all_feeding();
    finish();
  };
  response_->notify_when_client_leaves();
  response_->on_writable = [this] {
    if (child_) child_->resume_stdout();
  };
  if (ranges_.size() == 1) return spawn_ffmpeg(core::full_cut_argv(type_, ranges_, true, true));
  // Joining ranges needs to know which of video and audio there is.
  std::weak_ptr<bool> alive = alive_token();
  io::probe_stream_codecs(loop_, feeds_.front().paths.front(), [this, alive](core::Result<io::StreamCodecs> streams) {
    if (alive.expired() || !response_) return;
    if (!streams) {
      fail_response(response_, streams.error().message);
      return finish();
    }
    spawn_ffmpeg(core::full_cut_argv(type_, ranges_, streams->has_video, streams->has_audio));
  });
}

void FullCut::spawn_ffmpeg(const std::vector<std::string>& argv) {
  child_ = std::make_unique<io::ChildProcess>(loop_);
  io::ChildProcess::Callbacks callbacks;
  callbacks.on_stdout = [this](std::string_view bytes) { on_stdout(bytes); };
  callbacks.on_stderr = [this](std::string_view bytes) { note_stderr(bytes); };
  callbacks.on_exit = [this](std::int64_t status, int signal) { on_exit(status, signal); };
  callbacks.on_input_drained = [this](std::size_t input) { feed(input); };
  auto started = child_->spawn(argv, feeds_.size(), std::move(callbacks));
  if (!started) {
    fail_response(response_, started.error().message);
    child_.reset();
    finish();
    return;
  }
  log()->debug("cut: ffmpeg pid {} for {} inputs", child_->pid(), feeds_.size());
  for (std::size_t i = 0; i < feeds_.size(); ++i) feed(i);
}

void FullCut::feed(std::size_t input) {
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
    if (fd < 0) {
      log()->error("cut: cannot open {}: {}", path.display, std::strerror(-fd));
      stderr_tail_ += "cannot open " + path.display;
      child_->kill();
      stop_all_feeding();
      return;
    }
    feed.file = std::make_shared<io::OwnedFd>(fd);
  }
  int rc = read_chunk(loop_, feed.file, feed.offset,
                      [this, input](ssize_t result, std::string bytes) { on_read(input, result, std::move(bytes)); });
  if (rc != 0) {
    child_->kill();
    stop_all_feeding();
    return;
  }
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
  auto result = std::make_shared<core::Result<std::string>>(core::make_error("not remuxed"));
  std::weak_ptr<bool> alive = alive_token();
  int rc = io::run_in_threadpool(
      loop_, [result, path] { *result = io::remux_to_mpegts(path); },
      [this, alive, result, input](int status) {
        if (alive.expired()) return;
        Feed& feed = feeds_[input];
        feed.reading = false;
        if (!child_ || feed.done) return;
        if (status != 0 || !*result) {
          std::string why = status != 0 ? std::string(uv_err_name(status)) : result->error().message;
          log()->error("cut: {}", why);
          stderr_tail_ += why;
          child_->kill();
          stop_all_feeding();
          return;
        }
        // Each file starts a part: whatever its own timestamps, it continues the last.
        std::string bytes = feed.retimer.begin_part();
        bytes += feed.retimer.feed(**result);
        if (!bytes.empty() && !child_->write_input(input, std::move(bytes))) return stop_feeding(feed);
        this->feed(input);
      });
  if (rc != 0) {
    child_->kill();
    stop_all_feeding();
    return;
  }
  feed.reading = true;
}

void FullCut::on_read(std::size_t input, ssize_t result, std::string bytes) {
  Feed& feed = feeds_[input];
  feed.reading = false;
  if (!child_ || feed.done) return;
  if (result < 0) {
    log()->error("cut: read failed: {}", uv_err_name(int(result)));
    child_->kill();
    stop_all_feeding();
    return;
  }
  if (result == 0) {
    feed.file.reset();
  } else {
    bytes.resize(std::size_t(result));
    feed.offset += result;
    // EPIPE once ffmpeg has read enough is expected: it stops at the cut's end.
    if (!child_->write_input(input, std::move(bytes))) {
      stop_feeding(feed);
      return;
    }
  }
  this->feed(input);
}

void FullCut::stop_feeding(Feed& feed) {
  feed.done = true;
  feed.file.reset();
}

void FullCut::stop_all_feeding() {
  for (Feed& feed : feeds_) stop_feeding(feed);
}

void FullCut::on_stdout(std::string_view bytes) {
  if (!response_) return;
  send_bytes(*response_, content_type_, std::string(bytes));
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
  stop_all_feeding();
  finish();
}

}  // namespace wubd::restreamer
