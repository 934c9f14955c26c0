#include "smart_cut.h"

#include <spdlog/spdlog.h>

#include "wubd/io/media_probe.h"
#include "wubd/io/threadpool.h"

namespace wubd::restreamer {

SmartCut::SmartCut(uv_loop_t* loop, std::vector<Range> ranges, io::HttpResponse& response,
                   std::function<void()> on_finished)
    : CutJob(std::move(on_finished)), loop_(loop), ranges_(std::move(ranges)), response_(&response) {
  for (Range& range : ranges_) {
    // The pieces point at our copies of the segments, not the store's.
    for (std::size_t i = 0; i < range.pieces.size(); ++i) range.pieces[i].segment = &range.segments[i];
    frames_.emplace_back(range.pieces.size());
  }
}

SmartCut::~SmartCut() = default;  // children are killed with their objects

void SmartCut::start() {
  response_->notify_when_client_leaves();
  response_->on_client_gone = [this] {
    log()->info("cut: client gone; stopping the smart cut");
    response_ = nullptr;
    encoder_.reset();
    finish();
  };
  response_->on_writable = [this] { pump(); };
  plan_next_range();
}

void SmartCut::plan_next_range() {
  while (response_ && plans_.size() < ranges_.size()) {
    const std::size_t r = plans_.size();
    Range& range = ranges_[r];
    auto planned = core::plan_smart_range(range.pieces, range.range, frames_[r]);
    if (auto* need = std::get_if<core::NeedFrames>(&planned)) {
      std::weak_ptr<bool> alive = alive_token();
      const std::size_t piece = need->piece;
      io::read_segment_frames(loop_, range.paths[piece],
                              [this, alive, r, piece](core::Result<core::SegmentFrames> frames) {
                                if (alive.expired() || !response_) return;
                                if (!frames) return fail(frames.error().message);
                                if (video_codec_.empty()) video_codec_ = frames->video_codec;
                                frames_[r][piece] = std::move(*frames);
                                plan_next_range();
                              });
      return;
    }
    plans_.push_back(std::get<core::SmartRangePlan>(std::move(planned)));
  }
  if (!response_) return;
  build_parts();
  start_next_encode();
  pump();
}

void SmartCut::build_parts() {
  for (std::size_t r = 0; r < ranges_.size(); ++r) {
    const Range& range = ranges_[r];
    const core::SmartRangePlan& plan = plans_[r];
    auto encode_of = [&](const core::SmartEncode& run) {
      std::vector<std::string> inputs(range.paths.begin() + std::ptrdiff_t(run.first_piece),
                                      range.paths.begin() + std::ptrdiff_t(run.last_piece) + 1);
      encodes_.push_back({core::smart_encode_argv(core::concat_input(inputs), video_codec_, run)});
      return encodes_.size() - 1;
    };
    Part begin;
    begin.kind = Part::Kind::BeginRange;
    begin.delay = plan.delay;
    begin.frame_ticks = plan.frame_ticks;
    parts_.push_back(begin);
    if (plan.head) {
      Part head;
      head.kind = Part::Kind::Encoded;
      head.encode = encode_of(*plan.head);
      head.delay = plan.head->delay;
      parts_.push_back(head);
    }
    // Pieces before the first frame's hold nothing of the clip.
    for (std::size_t i = plan.origin_piece; i < range.pieces.size(); ++i) {
      Part part;
      io::TsSplicer::Segment& segment = part.segment;
      segment.path = range.paths[i];
      segment.wall_start = range.segments[i].name.start;
      if (frames_[r][i]) segment.reference_pts = core::reference_pts(*frames_[r][i]);
      segment.video_from = plan.copy_from;
      segment.video_to = plan.copy_to;
      segment.audio_from = plan.audio_from;
      segment.audio_to = plan.audio_to;
      if (i == plan.origin_piece) segment.origin_pts = plan.origin_pts;
      if (plan.tail && i == plan.tail->origin_piece) segment.mark_pts = plan.tail->origin_pts;
      parts_.push_back(std::move(part));
    }
    if (plan.tail) {
      Part tail;
      tail.kind = Part::Kind::Encoded;
      tail.encode = encode_of(*plan.tail);
      tail.at_mark = true;
      tail.delay = plan.tail->delay;
      parts_.push_back(tail);
    }
    log()->debug("cut: smart range {} of {}: {} frames, head {} frames, tail {} frames", r + 1, ranges_.size(),
                 plan.video_frames, plan.head ? plan.head->frames : 0, plan.tail ? plan.tail->frames : 0);
  }
}

void SmartCut::start_next_encode() {
  if (!response_ || encoder_ || next_encode_ == encodes_.size()) return;
  Encode& encode = encodes_[next_encode_++];
  encoder_ = std::make_unique<io::ChildProcess>(loop_);
  io::ChildProcess::Callbacks callbacks;
  std::shared_ptr<std::string> output = encode.output;
  callbacks.on_stdout = [output](std::string_view bytes) { output->append(bytes); };
  callbacks.on_stderr = [this](std::string_view bytes) { note_stderr(bytes); };
  callbacks.on_exit = [this, &encode](std::int64_t status, int signal) {
    if (status != 0 || signal != 0) return fail(exit_reason(status, signal));
    encode.done = true;
    // Freed later: this runs inside the child's own callback.
    retired_encoders_.push_back(std::move(encoder_));
    start_next_encode();
    pump();
  };
  if (auto started = encoder_->spawn(encode.argv, 0, std::move(callbacks)); !started) {
    fail(started.error().message);
  }
}

void SmartCut::pump() {
  while (response_ && !splicing_ && response_->writable()) {
    if (!opened_) {
      std::string first = ranges_.front().paths.front();
      return run_splicer([first](io::TsSplicer& splicer) { return splicer.open(first); },
                         [this] { opened_ = true; });
    }
    if (next_part_ == parts_.size()) {
      if (closed_) return;
      return run_splicer([](io::TsSplicer& splicer) { return splicer.finish(); }, [this] {
        closed_ = true;
        if (int repaired = splicer_->repaired_packets()) {
          log()->warn("cut: smart cut repaired {} packets with out-of-order timestamps", repaired);
        }
        if (!response_->started()) response_->begin_stream(200, "video/mp2t");
        response_->end();
        response_ = nullptr;
        finish();
      });
    }
    const Part& part = parts_[next_part_];
    switch (part.kind) {
      case Part::Kind::BeginRange:
        // Nothing runs on the splicer now (splicing_ is false): safe on the loop.
        splicer_->begin_range(part.delay, part.frame_ticks);
        ++next_part_;
        continue;
      case Part::Kind::Segment: {
        io::TsSplicer::Segment segment = part.segment;
        return run_splicer([segment](io::TsSplicer& splicer) { return splicer.add_segment(segment); },
                           [this] { ++next_part_; });
      }
      case Part::Kind::Encoded: {
        Encode& encode = encodes_[part.encode];
        if (!encode.done) return;  // its encoder's exit pumps again
        std::shared_ptr<std::string> bytes = encode.output;
        bool at_mark = part.at_mark;
        std::int64_t delay = part.delay;
        return run_splicer(
            [bytes, at_mark, delay](io::TsSplicer& splicer) { return splicer.add_encoded(*bytes, at_mark, delay); },
            [this, &encode] {
              encode.output.reset();
              ++next_part_;
            });
      }
    }
  }
}

void SmartCut::run_splicer(std::function<core::Result<bool>(io::TsSplicer&)> work, std::function<void()> after) {
  // The splicer and the result stay alive until the threadpool is done with them,
  // even if this job is freed first.
  auto splicer = splicer_;
  auto result = std::make_shared<core::Result<bool>>(false);
  auto output = std::make_shared<std::string>();
  std::weak_ptr<bool> alive = alive_token();
  splicing_ = true;
  int rc = io::run_in_threadpool(
      loop_,
      [splicer, result, output, work = std::move(work)] {
        *result = work(*splicer);
        *output = splicer->take_output();
      },
      [this, alive, result, output, after = std::move(after)](int status) {
        if (alive.expired()) return;
        splicing_ = false;
        if (!response_) return;
        if (status != 0) return fail(std::string("splicing cancelled: ") + uv_err_name(status));
        if (!*result) return fail(result->error().message);
        relay_output(std::move(*output));
        after();
        pump();
      });
  if (rc != 0) {
    splicing_ = false;
    fail(std::string("cannot queue splicing: ") + uv_err_name(rc));
  }
}

void SmartCut::relay_output(std::string bytes) {
  if (!response_ || bytes.empty()) return;
  if (!response_->started()) response_->begin_stream(200, "video/mp2t");
  response_->write(std::move(bytes));
}

void SmartCut::fail(const std::string& reason) {
  fail_response(response_, "smart cut: " + reason);
  if (encoder_) retired_encoders_.push_back(std::move(encoder_));
  retired_encoders_.clear();  // kills any still running
  finish();
}

}  // namespace wubd::restreamer
