#include "cut_body.h"

#include <spdlog/spdlog.h>

#include "wubd/log/log.h"

namespace wubd::restreamer {

CutBody::CutBody(uv_loop_t* loop, CutSlots::Slot slot, std::string_view content_type, std::string_view kind)
    : loop_(loop), tasks_(loop), kind_(kind), slot_(std::move(slot)), content_type_(content_type) {}

spdlog::logger& CutBody::log() { return log::logger(log::Module::Cut); }

void CutBody::start(io::BodyWriter& out) {
  out_ = &out;
  run();
}

void CutBody::stop() {
  std::string what = on_stop();
  log().info("{}: client gone; {}", out_ ? out_->request_path() : "", what);
}

void CutBody::note_stderr(std::string_view bytes) {
  stderr_tail_.append(bytes);
  if (stderr_tail_.size() > 2000) stderr_tail_.erase(0, stderr_tail_.size() - 2000);
  log().warn("ffmpeg: {}", bytes.substr(0, bytes.find_last_not_of('\n') + 1));
}

std::string CutBody::exit_reason(std::int64_t status, int signal) const {
  std::string tail = stderr_tail_.empty() ? "no output" : stderr_tail_;
  while (!tail.empty() && tail.back() == '\n') tail.pop_back();
  return "ffmpeg exited " + std::to_string(status) + (signal ? " (signal " + std::to_string(signal) + ")" : "") + ": " +
         tail;
}

void CutBody::send(std::string bytes) {
  if (!active() || bytes.empty()) return;
  if (!out_->began()) out_->begin(200, content_type_, std::nullopt);
  out_->write(std::move(bytes));
}

void CutBody::finish() {
  if (!active()) return;
  if (!out_->began()) out_->begin(200, content_type_, std::nullopt);
  out_->end();
}

void CutBody::fail(const std::string& reason) {
  if (!active()) return;
  log().error("{}: cut failed: {}: {}", out_->request_path(), kind_, reason);
  out_->fail(500, kind_ + ": " + reason);
}

}  // namespace wubd::restreamer
