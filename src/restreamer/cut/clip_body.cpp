#include "clip_body.h"

#include "wubd/core/byte_range.h"

namespace wubd::restreamer {

ClipBody::ClipBody(uv_loop_t* loop, std::shared_ptr<CutCache> cache, std::string key,
                   std::function<CutCache::Recipe()> recipe, std::optional<std::string> range)
    : cache_(std::move(cache)),
      key_(std::move(key)),
      recipe_(std::move(recipe)),
      range_(std::move(range)),
      streamer_(loop) {}

void ClipBody::start(io::BodyWriter& out) {
  out_ = &out;
  place_ = cache_->request(key_, recipe_, [this](const core::Result<CutCache::ClipFile>& clip) { send(clip); });
}

void ClipBody::send(const core::Result<CutCache::ClipFile>& clip) {
  place_.reset();  // the clip is made: nothing to wait for
  if (!clip)
    return out_->fail(clip.error().code ? clip.error().code : 500, "cannot make the clip: " + clip.error().message);
  const std::int64_t size = clip->size;
  out_->add_header("Accept-Ranges", "bytes");
  core::RangeDecision range =
      core::decide_range(range_ ? std::optional<std::string_view>(*range_) : std::nullopt, size);
  std::int64_t offset = 0;
  std::int64_t length = size;
  int status = 200;
  switch (range.outcome) {
    case core::RangeOutcome::Whole:
      break;
    case core::RangeOutcome::Partial:
      status = 206;
      offset = range.range.first;
      length = range.range.length();
      out_->add_header("Content-Range", "bytes " + std::to_string(range.range.first) + "-" +
                                            std::to_string(range.range.last) + "/" + std::to_string(size));
      break;
    case core::RangeOutcome::Unsatisfiable:
      out_->add_header("Content-Range", "bytes */" + std::to_string(size));
      return out_->fail(416, "range not satisfiable: the clip is " + std::to_string(size) + " bytes");
  }
  out_->begin(status, "video/mp4", length);
  if (out_->finished()) return;  // HEAD
  streamer_.stream(*out_, clip->file, offset, length, key_, [this](bool ok) {
    if (!ok) return out_->fail(500, "cannot read the clip");
    out_->end();
  });
}

}  // namespace wubd::restreamer
