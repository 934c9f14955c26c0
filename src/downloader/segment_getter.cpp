#include "segment_getter.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "downloader_log.h"
#include "wubd/io/lifetime.h"
#include "wubd/log/log.h"

namespace wubd::downloader {
namespace {

bool is_gone(long status) { return status == 403 || status == 404; }

}  // namespace

SegmentGetter::SegmentGetter(DownloadContext& context, SegmentJob job, std::function<void(bool)> on_finished)
    : context_(context),
      job_(std::move(job)),
      on_finished_(std::move(on_finished)),
      created_at_(context.now()),
      seen_at_(DownloadContext::precise_now()),
      retry_timer_(context.loop) {}

SegmentGetter::~SegmentGetter() { stop(); }

std::string SegmentGetter::where() const {
  return job_.stream + "/" + job_.variant + " " + core::format_time(job_.start) + " " + job_.url;
}

void SegmentGetter::start() { start_attempt(); }

core::GetterState SegmentGetter::state() const {
  // An attempt being committed has every byte: in flight, and not hung.
  int raced = int(std::count_if(attempts_.begin(), attempts_.end(), [](const auto& a) { return a->raced; }));
  return core::GetterState{created_at_, int(attempts_.size() + committing_.size()), gone_, raced};
}

void SegmentGetter::start_attempt() {
  if (done_ || context_.stopping) return;
  auto attempt = std::make_unique<Attempt>();
  Attempt* a = attempt.get();
  a->number = ++attempts_started_;
  a->started_at = DownloadContext::precise_now();
  const core::DownloadTimings& t = context_.timings;
  io::FetchRequest request;
  request.url = job_.url;
  request.headers = context_.headers;
  request.headers_timeout_ms = DownloadContext::to_ms(t.segment_headers_hard_timeout);
  request.total_timeout_ms = DownloadContext::to_ms(t.segment_total_hard_timeout);
  request.receive_buffer_bytes = 64 * 1024;  // segments are ~1 MB: fewer, larger reads
  request.on_headers = [this, a](long status) { return on_headers(*a, status); };
  request.on_data = [this, a](std::string_view bytes) { return on_data(*a, bytes); };
  request.must_wait = [] { return store::FileWriter::disk_is_behind(); };
  request.on_done = [this, a](const io::FetchOutcome& outcome) { on_attempt_done(a, outcome); };
  a->soft_headers = std::make_unique<io::Timer>(context_.loop);
  a->soft_headers->start(DownloadContext::to_ms(t.segment_headers_soft_timeout),
                         [this, a] { on_soft_timeout(a, "segment_headers"); });
  a->soft_total = std::make_unique<io::Timer>(context_.loop);
  a->soft_total->start(DownloadContext::to_ms(t.segment_total_soft_timeout),
                       [this, a] { on_soft_timeout(a, "segment_total"); });
  attempts_.push_back(std::move(attempt));
  if (a->number > 1) {
    context_.metrics.racing_attempts.inc({{"stream", job_.stream}, {"variant", job_.variant}});
  }
  log().debug("segment {}: attempt {} started", where(), a->number);
  transfers::TransferSpec spec;
  spec.source = transfers::source_of_url(job_.url);
  spec.target = job_.stream + "/" + job_.variant + "/" + core::format_hour(job_.start);
  spec.file_name = job_.url.substr(job_.url.find_last_of('/') + 1);
  spec.request = std::move(request);
  a->transfer = context_.engine.submit(std::move(spec));
}

bool SegmentGetter::on_headers(Attempt& attempt, long status) {
  attempt.status = status;
  attempt.headers_done = true;
  attempt.soft_headers->stop();
  if (status < 200 || status >= 300) return false;
  attempt.writer = std::make_unique<store::SegmentWriter>(context_.loop, context_.base_dir, job_.stream, job_.variant,
                                                          job_.start, job_.duration);
  attempt.disk_ticket = context_.disk.ticket(job_.stream);
  if (job_.init) {
    if (auto written = attempt.writer->write(*job_.init); !written) {
      attempt.write_error = written.error();
      return false;
    }
  }
  return true;
}

bool SegmentGetter::on_data(Attempt& attempt, std::string_view bytes) {
  if (!attempt.writer) return false;
  attempt.body_bytes += bytes.size();
  if (auto written = attempt.writer->write(bytes); !written) {
    attempt.write_error = written.error();
    return false;
  }
  return true;
}

void SegmentGetter::on_soft_timeout(Attempt* attempt, const char* which) {
  log::Fields fields{{"stream", job_.stream}, {"variant", job_.variant}, {"url", job_.url}};
  context_.metrics.timeouts.inc({{"operation", which}, {"kind", "soft"}});
  log().info("segment {}: attempt {} passed the soft {} timeout; racing another", where(), attempt->number, which);
  // Each attempt triggers at most one racer, whichever of its soft timeouts fires first.
  attempt->raced = true;
  attempt->soft_headers->stop();
  attempt->soft_total->stop();
  apply(core::on_attempt_event(state(), core::AttemptEvent::SoftTimeout, context_.now(), context_.timings,
                               context_.unit_random()));
}

std::unique_ptr<SegmentGetter::Attempt> SegmentGetter::take(Attempt* attempt) {
  auto it = std::find_if(attempts_.begin(), attempts_.end(), [&](const auto& a) { return a.get() == attempt; });
  std::unique_ptr<Attempt> owned = std::move(*it);
  attempts_.erase(it);
  return owned;
}

void SegmentGetter::on_attempt_done(Attempt* raw, const io::FetchOutcome& outcome) {
  log::Fields fields{{"stream", job_.stream}, {"variant", job_.variant}, {"url", job_.url}};
  std::unique_ptr<Attempt> attempt = take(raw);
  attempt->finished_transfer = std::to_string(std::uint64_t(attempt->transfer));
  attempt->transfer = transfers::TransferId::None;
  attempt->soft_headers->stop();
  attempt->soft_total->stop();
  bool ok_status = outcome.status >= 200 && outcome.status < 300;
  if (outcome.timed_out) {
    context_.metrics.timeouts.inc(
        {{"operation", attempt->headers_done ? "segment_total" : "segment_headers"}, {"kind", "hard"}});
  }
  if (outcome.complete && ok_status && attempt->writer && !attempt->write_error) {
    commit(std::move(attempt));  // the event comes when the file is renamed
    return;
  }
  core::AttemptEvent event;
  // An operator's cancel counts as a failed attempt: the getter tries again, as it
  // would after a hard timeout (the operator killed a stuck download).
  bool bad_status = attempt->headers_done && (attempt->status < 200 || attempt->status >= 300);
  std::string reason = attempt->write_error ? attempt->write_error->message
                       : bad_status         ? "HTTP " + std::to_string(attempt->status)
                       : outcome.complete   ? "HTTP " + std::to_string(outcome.status)
                                            : outcome.error;
  if (is_gone(outcome.status)) {
    gone_ = true;
    event = core::AttemptEvent::Gone;
  } else {
    event = core::AttemptEvent::Failed;
  }
  if (attempt->write_error && attempt->write_error->os_error) {
    // The disk, not the origin: said once per stream (DiskTrouble), here only at debug.
    context_.disk.failed(job_.stream, *attempt->write_error);
    log().debug("segment {}: attempt {} failed: {}", where(), attempt->number, reason);
  } else {
    log().warn("segment {}: attempt {} failed: {}", where(), attempt->number, reason);
  }
  end_attempt(*attempt, !attempt->write_error);
  apply(core::on_attempt_event(state(), event, context_.now(), context_.timings, context_.unit_random()));
}

void SegmentGetter::commit(std::unique_ptr<Attempt> attempt) {
  // Doubtful but complete, as wubloader names them: a worker that saw the dates
  // jump, a download so slow that Twitch may have cut it short without saying so,
  // or an empty body.
  core::Micros took = DownloadContext::precise_now() - attempt->started_at;
  const char* doubt = job_.suspect                                     ? "PROGRAM-DATE-TIME jumped"
                      : took >= context_.timings.segment_suspect_after ? "slow download"
                      : attempt->body_bytes == 0                       ? "empty body"
                                                                       : nullptr;
  Attempt* a = attempt.get();
  committing_.push_back(std::move(attempt));
  a->writer->commit(
      doubt ? core::SegmentType::Suspect : core::SegmentType::Full,
      [this, a, doubt](const core::Result<std::string>& committed) { on_committed(a, doubt, committed); });
}

void SegmentGetter::on_committed(Attempt* raw, const char* doubt, const core::Result<std::string>& committed) {
  auto it = std::find_if(committing_.begin(), committing_.end(), [&](const auto& a) { return a.get() == raw; });
  std::unique_ptr<Attempt> attempt = std::move(*it);
  committing_.erase(it);
  // Inside the writer's callback: the attempt (and its writer) go on the next turn.
  Attempt& a = *attempt;
  io::defer_delete(context_.loop, std::move(attempt));
  // The fields the transfer engine gave the download's end, as the end is said now.
  log::Fields fields{{"stream", job_.stream},
                     {"variant", job_.variant},
                     {"url", job_.url},
                     {"transfer", a.finished_transfer},
                     {"status", std::to_string(a.status)}};
  if (committed) context_.disk.wrote(job_.stream, a.disk_ticket);
  // Two attempts that both got every byte write the same name; the first one counted.
  if (done_) return;
  core::AttemptEvent event;
  if (!committed && committed.error().os_error) {
    context_.disk.failed(job_.stream, committed.error());
    event = core::AttemptEvent::Failed;
  } else if (!committed) {
    log().error("segment {}: {}", where(), committed.error().message);
    event = core::AttemptEvent::Failed;
  } else if (doubt) {
    context_.metrics.segments.inc({{"stream", job_.stream}, {"variant", job_.variant}, {"type", "suspect"}});
    log().info("segment {}: suspect ({}), {} bytes", where(), doubt, a.body_bytes);
    suspect_ = true;
    event = core::AttemptEvent::Completed;
  } else {
    context_.metrics.segments.inc({{"stream", job_.stream}, {"variant", job_.variant}, {"type", "full"}});
    context_.metrics.segment_bytes.inc({{"stream", job_.stream}, {"variant", job_.variant}},
                                       double(a.writer->bytes_written()));
    core::Micros now = DownloadContext::precise_now();
    context_.metrics.seen_to_full.observe({{"stream", job_.stream}}, double(now - seen_at_) / 1e6);
    log().debug("segment {}: full, {} bytes, attempt {}, seen-to-full {} us, transfer {} us", where(),
                a.writer->bytes_written(), a.number, now - seen_at_, now - a.started_at);
    event = core::AttemptEvent::Completed;
  }
  apply(core::on_attempt_event(state(), event, context_.now(), context_.timings, context_.unit_random()));
}

void SegmentGetter::apply(const core::GetterAction& action) {
  if (action.cancel_others) {
    for (auto& other : std::exchange(attempts_, {})) {
      log().debug("segment {}: cancelling losing attempt {}", where(), other->number);
      end_attempt(*other, false);
    }
  }
  if (action.start_attempt) start_attempt();
  if (action.retry_in) {
    retry_timer_.start(DownloadContext::to_ms(*action.retry_in), [this] { start_attempt(); });
  }
  if (action.done) {
    if (action.gave_up) {
      context_.metrics.getters_gave_up.inc({{"stream", job_.stream}, {"variant", job_.variant}});
      log().warn("segment {}: giving up after {} attempts", where(), attempts_started_);
    }
    // A suspect copy is done for this getter, but another worker may still get a full one.
    finish(!action.gave_up && !suspect_);
  }
}

void SegmentGetter::end_attempt(Attempt& attempt, bool keep_partial) {
  if (attempt.transfer != transfers::TransferId::None) context_.engine.abandon(attempt.transfer);
  attempt.transfer = transfers::TransferId::None;
  attempt.soft_headers->stop();
  attempt.soft_total->stop();
  if (!attempt.writer) return;
  if (keep_partial && attempt.writer->bytes_written() > 0) {
    // Kept by the getter until renamed, so that the outcome is said and counted.
    store::SegmentWriter* writer = attempt.writer.get();
    partials_.push_back(std::move(attempt.writer));
    writer->commit(core::SegmentType::Partial, [this, writer](const core::Result<std::string>& committed) {
      on_partial_committed(writer, committed);
    });
  } else {
    attempt.writer->discard();
    attempt.writer.reset();
  }
}

void SegmentGetter::on_partial_committed(store::SegmentWriter* raw, const core::Result<std::string>& committed) {
  log::Fields fields{{"stream", job_.stream}, {"variant", job_.variant}, {"url", job_.url}};
  auto it = std::find_if(partials_.begin(), partials_.end(), [&](const auto& w) { return w.get() == raw; });
  std::unique_ptr<store::SegmentWriter> writer = std::move(*it);
  partials_.erase(it);
  if (committed) {
    context_.metrics.segments.inc({{"stream", job_.stream}, {"variant", job_.variant}, {"type", "partial"}});
    log().info("segment {}: kept {} bytes as partial", where(), writer->bytes_written());
  } else {
    report_commit_error(committed.error());
  }
  io::defer_delete(context_.loop, std::move(writer));  // inside its own callback
}

// The disk's refusals are said once per stream (DiskTrouble); anything else here.
void SegmentGetter::report_commit_error(const core::Error& error) noexcept {
  if (error.os_error) {
    context_.disk.failed(job_.stream, error);
  } else {
    log().error("segment {}: {}", where(), error.message);
  }
}

void SegmentGetter::finish(bool got_full) {
  if (done_) return;
  done_ = true;
  retry_timer_.stop();
  if (on_finished_) on_finished_(got_full);
}

void SegmentGetter::stop() {
  retry_timer_.stop();
  for (auto& attempt : std::exchange(attempts_, {})) end_attempt(*attempt, true);
  done_ = true;
}

}  // namespace wubd::downloader
