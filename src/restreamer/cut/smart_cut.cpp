#include "smart_cut.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "wubd/log/log.h"
#include "wubd/media/media_probe.h"

namespace wubd::restreamer {

SmartCut::SmartCut(uv_loop_t* loop, CutSlots::Slot slot, std::vector<CutRangeFiles> ranges,
                   std::vector<std::optional<TransitionFiles>> transitions)
    : CutBody(loop, std::move(slot), "video/mp2t", "smart cut"),
      ranges_(std::move(ranges)),
      transitions_(std::move(transitions)),
      clips_(transitions_.size()) {
  for (const CutRangeFiles& range : ranges_) frames_.emplace_back(range.pieces.size());
}

void SmartCut::run() {
  bool any = std::any_of(transitions_.begin(), transitions_.end(), [](const auto& t) { return t.has_value(); });
  if (any) {
    // The clips need the source's codecs; they are made while the ends are read.
    io::BeneathPath first = ranges_.front().paths.front();
    tasks_.compute<core::Result<media::StreamCodecs>>([first] { return media::probe_stream_codecs(first); },
                                                      [this](core::Result<media::StreamCodecs> streams) {
                                                        if (!active()) return;
                                                        if (!streams) return fail(streams.error().message);
                                                        std::string video;
                                                        for (const std::string& codec : streams->codecs) {
                                                          if (!codec.empty()) video = codec;
                                                        }
                                                        make_transitions(video, streams->has_video, streams->has_audio);
                                                      });
  }
  read_ends();
}

std::string SmartCut::on_stop() {
  for (Clip& clip : clips_) {
    if (clip.child) clip.child->kill();
  }
  return "stopping the smart cut";
}

void SmartCut::make_transitions(const std::string& video_codec, bool has_video, bool has_audio) {
  for (std::size_t i = 0; i < transitions_.size(); ++i) {
    if (!transitions_[i]) continue;
    const TransitionFiles& transition = *transitions_[i];
    Clip& clip = clips_[i];
    clip.child = std::make_unique<FedChild>(loop_, tasks_, std::vector{transition.from, transition.to}, false);
    FedChild::Callbacks callbacks;
    callbacks.on_stdout = [&clip](std::string_view bytes) { clip.bytes.append(bytes); };
    callbacks.on_stderr = [this](std::string_view bytes) { note_stderr(bytes); };
    callbacks.on_exit = [this, &clip](std::int64_t status, int signal, const std::string& feed_error) {
      stderr_tail_ += feed_error;
      if (status != 0 || signal != 0) return fail("making a transition: " + exit_reason(status, signal));
      clip.ready = true;
      pump();
    };
    auto argv = core::transition_argv(transition.clip, video_codec, has_video, has_audio);
    if (auto started = clip.child->start(argv, std::move(callbacks)); !started) return fail(started.error().message);
  }
}

void SmartCut::read_ends() {
  // The plan needs the frames of each range's first pieces (to the first keyframe)
  // and last ones (back to the last): read the likely ones at once, in parallel.
  std::vector<std::pair<std::size_t, std::size_t>> wanted;  // (range, piece)
  for (std::size_t r = 0; r < ranges_.size(); ++r) {
    std::size_t n = ranges_[r].pieces.size();
    for (std::size_t piece : {std::size_t(0), std::size_t(1), n - 2, n - 1}) {
      if (piece >= n) continue;  // n - 2 wraps when n < 2
      if (std::find(wanted.begin(), wanted.end(), std::pair{r, piece}) == wanted.end()) wanted.push_back({r, piece});
    }
  }
  auto pending = std::make_shared<std::size_t>(wanted.size());
  for (auto [r, piece] : wanted) {
    read_frames(r, piece, [this, pending] {
      if (--*pending == 0) plan_next_range();
    });
  }
}

void SmartCut::read_frames(std::size_t range, std::size_t piece, std::function<void()> then) {
  io::BeneathPath path = ranges_[range].paths[piece];
  int rc = tasks_.compute<core::Result<core::SegmentFrames>>(
      [path] { return media::read_segment_frames(path); },
      [this, range, piece, then = std::move(then)](core::Result<core::SegmentFrames> frames) {
        if (!active()) return;
        if (!frames) return fail(frames.error().message);
        frames_[range][piece] = std::move(*frames);
        then();
      });
  if (rc != 0) fail(std::string("cannot queue a read: ") + uv_err_name(rc));
}

void SmartCut::plan_next_range() {
  while (active() && plans_.size() < ranges_.size()) {
    const std::size_t r = plans_.size();
    CutRangeFiles& range = ranges_[r];
    auto planned = core::plan_smart_range(range.pieces, range.range, frames_[r]);
    if (auto* need = std::get_if<core::NeedFrames>(&planned)) {
      return read_frames(r, need->piece, [this] { plan_next_range(); });
    }
    plans_.push_back(std::get<core::SmartRangePlan>(planned));
  }
  if (!active()) return;
  build_parts();
  encode_next_batch();
  pump();
}

void SmartCut::build_parts() {
  for (std::size_t r = 0; r < ranges_.size(); ++r) {
    const CutRangeFiles& range = ranges_[r];
    const core::SmartRangePlan& plan = plans_[r];
    const std::size_t pieces = range.pieces.size();
    auto encode_of = [&](const core::SmartEncode& run) {
      std::vector<io::BeneathPath> inputs(range.paths.begin() + std::ptrdiff_t(run.first_piece),
                                          range.paths.begin() + std::ptrdiff_t(run.last_piece) + 1);
      Encode encode;
      encode.encoder =
          std::make_shared<media::RunEncoder>(std::move(inputs), run.origin_pts, run.frames, plan.frame_ticks);
      encodes_.push_back(std::move(encode));
      return encodes_.size() - 1;
    };
    auto segment_part = [&](std::size_t i, core::Micros video_from, core::Micros video_to, core::Micros audio_from,
                            core::Micros audio_to) {
      Part part;
      media::TsSplicer::Segment& segment = part.segment;
      segment.path = range.paths[i];
      segment.wall_start = range.pieces[i].segment->name.start;
      if (frames_[r][i]) segment.reference_pts = core::reference_pts(*frames_[r][i]);
      segment.video_from = video_from;
      segment.video_to = video_to;
      segment.audio_from = audio_from;
      segment.audio_to = audio_to;
      if (i == plan.origin_piece) segment.origin_pts = plan.origin_pts;
      return part;
    };
    // A head of a few frames can start at pts 0 (1 tick: a dts equal to the pts is
    // left out of the stream, and tools then show none) with dts 0, and catch up with
    // the copied frames' dts lag (their B-frames' delay) over its length. Otherwise the
    // range's first dts trails its first pts by that lag (dts cannot go below 0).
    const bool head_catches_up = plan.head && plan.head->delay > 0 && plan.frame_ticks > 0 &&
                                 std::int64_t(plan.head->frames - 1) * plan.frame_ticks > plan.head->delay;
    Part begin;
    begin.kind = Part::Kind::BeginRange;
    begin.lead = head_catches_up ? 1 : plan.delay;
    begin.frame_ticks = plan.frame_ticks;
    parts_.push_back(begin);
    // The audio under the head goes first, so the muxer can interleave the head's
    // frames with it as they come, rather than hold them all for the audio.
    core::Micros head_audio_to = plan.audio_from;
    if (plan.head) {
      bool all_encoded = plan.copy_from == plan.copy_to && !plan.tail;
      head_audio_to = all_encoded ? plan.audio_to : plan.copy_from;
      std::size_t last = all_encoded ? pieces - 1 : std::min(pieces - 1, plan.head->last_piece + 1);
      for (std::size_t i = plan.origin_piece; i <= last; ++i) {
        parts_.push_back(segment_part(i, 0, 0, plan.audio_from, head_audio_to));
      }
      Part head;
      head.kind = Part::Kind::Encoded;
      head.encode = encode_of(*plan.head);
      head.run = {plan.head->origin_pts, false, begin.lead, plan.head->delay, plan.head->frames};
      parts_.push_back(head);
    }
    // Pieces before the first frame's hold nothing of the clip.
    for (std::size_t i = plan.origin_piece; i < pieces; ++i) {
      Part part = segment_part(i, plan.copy_from, plan.copy_to, head_audio_to, plan.audio_to);
      if (plan.tail && i == plan.tail->origin_piece) part.segment.mark_pts = plan.tail->origin_pts;
      parts_.push_back(std::move(part));
    }
    if (plan.tail) {
      Part tail;
      tail.kind = Part::Kind::Encoded;
      tail.encode = encode_of(*plan.tail);
      tail.run = {plan.tail->origin_pts, true, plan.tail->delay, plan.tail->delay, plan.tail->frames};
      parts_.push_back(tail);
    }
    log().debug("cut: smart range {} of {}: {} frames, head {} frames, tail {} frames", r + 1, ranges_.size(),
                plan.video_frames, plan.head ? plan.head->frames : 0, plan.tail ? plan.tail->frames : 0);
    if (r < transitions_.size() && transitions_[r]) {
      Part transition;
      transition.kind = Part::Kind::Transition;
      transition.encode = r;
      parts_.push_back(transition);
    }
  }
}

void SmartCut::encode_next_batch() {
  while (next_encode_ < encodes_.size() && encodes_[next_encode_].done) ++next_encode_;
  if (!active() || next_encode_ == encodes_.size()) return;
  Encode& encode = encodes_[next_encode_];
  if (encode.busy) return;
  // A small first batch gets the first frames out soon; then larger ones. Each call
  // stops after 20 ms: at 1080p a frame can take 15 ms, and the threadpool also
  // serves the file reads of every other request.
  const int batch = encode.ready.empty() && next_encode_ == 0 ? 12 : 30;
  constexpr std::chrono::microseconds kBudget{20'000};
  // The encoder is shared with the call, which may outlive the cut.
  auto encoder = encode.encoder;
  auto frames = std::make_shared<std::vector<media::EncodedFrame>>();
  auto result = std::make_shared<core::Result<bool>>(false);
  encode.busy = true;
  int rc = tasks_.run(
      [encoder, frames, result, batch, budget = kBudget] { *result = encoder->encode_more(batch, budget, *frames); },
      [this, &encode, encoder, frames, result] {
        encode.busy = false;
        if (!active()) return;
        if (!*result) return fail(result->error().message);
        for (media::EncodedFrame& frame : *frames) encode.ready.push_back(std::move(frame));
        encode.done = encoder->done();
        encode_next_batch();
        pump();
      });
  if (rc != 0) {
    encode.busy = false;
    fail(std::string("cannot queue encoding: ") + uv_err_name(rc));
  }
}

void SmartCut::pump() {
  while (!splicing_ && writable()) {
    if (!opened_) {
      io::BeneathPath first = ranges_.front().paths.front();
      return run_splicer([first](media::TsSplicer& splicer) { return splicer.open(first); },
                         [this] { opened_ = true; });
    }
    if (next_part_ == parts_.size()) {
      if (closed_) return;
      return run_splicer([](media::TsSplicer& splicer) { return splicer.finish(); },
                         [this] {
                           closed_ = true;
                           if (int repaired = splicer_->repaired_packets()) {
                             log().warn("cut: smart cut repaired {} packets with out-of-order timestamps", repaired);
                           }
                           finish();
                         });
    }
    const Part& part = parts_[next_part_];
    switch (part.kind) {
      case Part::Kind::BeginRange:
        // Nothing runs on the splicer now (splicing_ is false): safe on the loop.
        splicer_->begin_range(part.lead, part.frame_ticks);
        ++next_part_;
        continue;
      case Part::Kind::Segment: {
        media::TsSplicer::Segment segment = part.segment;
        return run_splicer([segment](media::TsSplicer& splicer) { return splicer.add_segment(segment); },
                           [this] { ++next_part_; });
      }
      case Part::Kind::Transition: {
        Clip& clip = clips_[part.encode];
        if (!clip.ready) return;  // its exit pumps again
        // Its own timestamps: a range of its own, whose first frame the splicer places
        // where the video ended (nothing on the splicer runs now: safe on the loop).
        splicer_->begin_range(0, 0);
        media::TsSplicer::Segment segment;
        segment.bytes = std::make_shared<const std::string>(std::move(clip.bytes));
        clip.bytes.clear();
        return run_splicer([segment](media::TsSplicer& splicer) { return splicer.add_segment(segment); },
                           [this] { ++next_part_; });
      }
      case Part::Kind::Encoded: {
        Encode& encode = encodes_[part.encode];
        if (encode.ready.empty()) {
          if (!encode.done) return;  // its next batch pumps again
          ++next_part_;
          continue;
        }
        auto frames = std::make_shared<std::vector<media::EncodedFrame>>(std::move(encode.ready));
        encode.ready.clear();
        media::TsSplicer::EncodedRun run = part.run;
        return run_splicer([frames, run](media::TsSplicer& splicer) { return splicer.add_encoded(*frames, run); },
                           [] {});
      }
    }
  }
}

void SmartCut::run_splicer(std::function<core::Result<bool>(media::TsSplicer&)> work, std::function<void()> after) {
  // The splicer and the result stay alive until the threadpool is done with them,
  // even if this cut is freed first.
  auto splicer = splicer_;
  auto result = std::make_shared<core::Result<bool>>(false);
  auto output = std::make_shared<std::string>();
  splicing_ = true;
  int rc = tasks_.run(
      [splicer, result, output, work = std::move(work)] {
        *result = work(*splicer);
        *output = splicer->take_output();
      },
      [this, result, output, after = std::move(after)] {
        splicing_ = false;
        if (!active()) return;
        if (!*result) return fail(result->error().message);
        send(std::move(*output));
        after();
        pump();
      });
  if (rc != 0) {
    splicing_ = false;
    fail(std::string("cannot queue splicing: ") + uv_err_name(rc));
  }
}

}  // namespace wubd::restreamer
