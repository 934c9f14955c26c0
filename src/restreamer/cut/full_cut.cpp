#include "full_cut.h"

#include <spdlog/spdlog.h>

#include "wubd/media/media_probe.h"

namespace wubd::restreamer {

FullCut::FullCut(uv_loop_t* loop, CutSlots::Slot slot, core::CutType type,
                 std::vector<std::vector<io::BeneathPath>> inputs, std::vector<core::FullCutInput> ranges,
                 std::vector<std::optional<core::Transition>> joins, bool fmp4)
    : CutBody(loop, std::move(slot), core::cut_content_type(type), "full cut"),
      type_(type),
      ranges_(std::move(ranges)),
      joins_(std::move(joins)),
      first_path_(inputs.front().front()),
      child_(loop, tasks_, std::move(inputs), fmp4) {}

void FullCut::run() {
  if (ranges_.size() == 1) return spawn_ffmpeg(core::full_cut_argv(type_, ranges_, joins_, true, true));
  // Joining ranges needs to know which of video and audio there is.
  io::BeneathPath first = first_path_;
  tasks_.compute<core::Result<media::StreamCodecs>>(
      [first] { return media::probe_stream_codecs(first); },
      [this](core::Result<media::StreamCodecs> streams) {
        if (!active()) return;
        if (!streams) return fail(streams.error().message);
        spawn_ffmpeg(core::full_cut_argv(type_, ranges_, joins_, streams->has_video, streams->has_audio));
      });
}

std::string FullCut::on_stop() {
  child_.kill();
  return "killing ffmpeg (pid " + std::to_string(child_.pid()) + ")";
}

void FullCut::resume() { child_.resume_output(); }

void FullCut::spawn_ffmpeg(const std::vector<std::string>& argv) {
  FedChild::Callbacks callbacks;
  callbacks.on_stdout = [this](std::string_view bytes) {
    send(std::string(bytes));
    if (!writable()) child_.pause_output();
  };
  callbacks.on_stderr = [this](std::string_view bytes) { note_stderr(bytes); };
  callbacks.on_exit = [this](std::int64_t status, int signal, const std::string& feed_error) {
    stderr_tail_ += feed_error;
    if (status == 0 && signal == 0) return finish();
    fail(exit_reason(status, signal));
  };
  if (auto started = child_.start(argv, std::move(callbacks)); !started) return fail(started.error().message);
  log().debug("cut: ffmpeg pid {} for {} inputs", child_.pid(), ranges_.size());
}

}  // namespace wubd::restreamer
