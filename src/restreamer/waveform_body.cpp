#include "waveform_body.h"

#include "wubd/media/images.h"

namespace wubd::restreamer {

WaveformBody::WaveformBody(uv_loop_t* loop, Plan plan, std::shared_ptr<void> slot,
                           std::function<void(std::shared_ptr<const std::string>)> done)
    : tasks_(loop), plan_(std::move(plan)), slot_(std::move(slot)), done_(std::move(done)), envelope_(plan_.width) {}

void WaveformBody::start(io::BodyWriter& out) {
  out_ = &out;
  runs_left_ = plan_.runs.size();
  if (runs_left_ == 0) return draw();
  for (std::vector<media::AudioSegment>& run : plan_.runs) {
    int rc = tasks_.compute<core::Result<core::Envelope>>(
        [run = std::move(run), start = plan_.start, end = plan_.end, width = plan_.width, stride = plan_.stride,
         slot = slot_]() -> core::Result<core::Envelope> {
          core::Envelope envelope(width);
          if (auto read = media::add_audio_envelope(run, start, end, stride, envelope); !read) return read.error();
          return envelope;
        },
        [this](core::Result<core::Envelope> envelope) { on_run_read(std::move(envelope)); });
    if (rc != 0) {
      failed_ = true;
      return out_->fail(503, std::string("cannot queue the waveform's reads: ") + uv_err_name(rc));
    }
  }
}

void WaveformBody::on_run_read(core::Result<core::Envelope> envelope) {
  if (failed_) return;
  if (!envelope) {
    failed_ = true;
    return out_->fail(500, "waveform: " + envelope.error().message);
  }
  envelope_.merge(*envelope);
  if (--runs_left_ == 0) draw();
}

void WaveformBody::draw() {
  int rc = tasks_.compute<core::Result<std::string>>(
      [envelope = std::move(envelope_), height = plan_.height, slot = std::move(slot_)] {
        return media::encode_image(core::draw_waveform(envelope, height), media::ImageFormat::Png);
      },
      [this](core::Result<std::string> png) {
        if (!png) return out_->fail(500, "waveform: " + png.error().message);
        auto shared = std::make_shared<const std::string>(std::move(*png));
        if (done_) done_(shared);
        out_->begin(200, "image/png", std::int64_t(shared->size()));
        out_->write_borrowed(shared, shared->data(), shared->size());
        out_->end();
      });
  if (rc != 0) out_->fail(503, std::string("cannot queue the waveform's drawing: ") + uv_err_name(rc));
}

}  // namespace wubd::restreamer
