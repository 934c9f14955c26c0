#include "cut_job.h"

#include <spdlog/spdlog.h>

#include "wubd/app/logging.h"

namespace wubd::restreamer {

void CutJob::note_stderr(std::string_view bytes) {
  stderr_tail_.append(bytes);
  if (stderr_tail_.size() > 2000) stderr_tail_.erase(0, stderr_tail_.size() - 2000);
  app::logger("cut")->warn("ffmpeg: {}", bytes.substr(0, bytes.find_last_not_of('\n') + 1));
}

std::string CutJob::exit_reason(std::int64_t status, int signal) const {
  std::string tail = stderr_tail_.empty() ? "no output" : stderr_tail_;
  while (!tail.empty() && tail.back() == '\n') tail.pop_back();
  return "ffmpeg exited " + std::to_string(status) + (signal ? " (signal " + std::to_string(signal) + ")" : "") +
         ": " + tail;
}

void CutJob::fail_response(io::HttpResponse*& response, const std::string& reason) {
  if (!response) return;
  app::logger("cut")->error("cut failed: {}", reason);
  if (!response->started()) {
    response->send_error(500, reason);
  } else {
    response->abort();
  }
  response = nullptr;
}

void CutJob::finish() {
  if (finished_) return;
  finished_ = true;
  if (on_finished_) on_finished_();
}

}  // namespace wubd::restreamer
