#include "wubd/core/download_policy.h"

#include <algorithm>

namespace wubd::core {

Micros jittered(Micros base, double fraction, double unit) {
  double factor = 1.0 + fraction * (2.0 * unit - 1.0);
  return std::max<Micros>(0, Micros(double(base) * factor));
}

Micros wait_before_next(Micros now, std::optional<Micros> last_start, Micros interval) {
  if (!last_start) return 0;
  return std::max<Micros>(0, *last_start + interval - now);
}

bool needs_new_worker(const VariantWorkers& variant, Micros now, const DownloadTimings& timings) {
  if (!variant.has_worker || variant.replacement_requested || !variant.url_fetched_at) return true;
  return now - *variant.url_fetched_at >= timings.max_url_age;
}

std::optional<Micros> master_fetch_wait(const ManagerState& state, Micros now, const DownloadTimings& timings,
                                        double unit_random) {
  if (state.fetch_in_flight) return std::nullopt;
  Micros interval =
      state.stream_live ? timings.master_min_interval : std::max(timings.master_min_interval, timings.offline_interval);
  Micros spacing =
      wait_before_next(now, state.last_fetch_start, jittered(interval, timings.jitter_fraction, unit_random));
  bool due = !state.variants_known || !state.stream_live || state.variants.empty();
  std::optional<Micros> oldest_url;
  for (const VariantWorkers& variant : state.variants) {
    if (needs_new_worker(variant, now, timings)) due = true;
    if (variant.url_fetched_at && (!oldest_url || *variant.url_fetched_at < *oldest_url)) {
      oldest_url = variant.url_fetched_at;
    }
  }
  if (due) return spacing;
  Micros until_expiry = oldest_url ? *oldest_url + timings.max_url_age - now : 0;
  return std::max(spacing, until_expiry);
}

std::vector<std::string> variants_to_start(const ManagerState& state, const std::vector<std::string>& available,
                                           const std::vector<std::string>& wanted, Micros now,
                                           const DownloadTimings& timings) {
  std::vector<std::string> start;
  for (const std::string& name : available) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), name) == wanted.end()) continue;
    auto known = std::find_if(state.variants.begin(), state.variants.end(),
                              [&](const VariantWorkers& v) { return v.variant == name; });
    if (known == state.variants.end() || needs_new_worker(*known, now, timings)) start.push_back(name);
  }
  return start;
}

std::vector<std::uint64_t> workers_to_retire(const std::vector<WorkerInfo>& workers, std::uint64_t working_id) {
  const WorkerInfo* working = nullptr;
  for (const WorkerInfo& worker : workers) {
    if (worker.id == working_id) working = &worker;
  }
  std::vector<std::uint64_t> retire;
  if (!working) return retire;
  for (const WorkerInfo& worker : workers) {
    if (worker.variant == working->variant && worker.id < working_id) retire.push_back(worker.id);
  }
  return retire;
}

WorkerDecision on_playlist_outcome(const WorkerHistory& before, PlaylistOutcome outcome, bool has_content) {
  WorkerDecision decision;
  bool had_success_before = before.had_success;
  switch (outcome) {
    case PlaylistOutcome::Ok:
      decision.report_working = !before.reported_working && has_content;
      break;
    case PlaylistOutcome::EndList:
      // The stream ended: stop gracefully, and let a new worker find it when it returns.
      decision.report_working = !before.reported_working && has_content;
      decision.keep_polling = false;
      decision.request_replacement = true;
      break;
    case PlaylistOutcome::Gone:
      decision.keep_polling = false;
      decision.request_replacement = true;
      break;
    case PlaylistOutcome::Failed:
      // A URL that never worked is not worth polling; one that did gets retried.
      if (!had_success_before) {
        decision.keep_polling = false;
        decision.request_replacement = true;
      }
      break;
  }
  return decision;
}

bool is_ad(const HlsSegment& segment, bool twitch) {
  return segment.ad || (twitch && !segment.title.empty() && segment.title != "live");
}

std::vector<Micros> date_skews(const MediaPlaylist& playlist, const std::vector<bool>& ads) {
  std::vector<Micros> skews(playlist.segments.size(), 0);
  std::vector<std::optional<Micros>> starts = segment_start_times(playlist);
  for (std::size_t i = 1; i < playlist.segments.size(); ++i) {
    const HlsSegment& segment = playlist.segments[i];
    const HlsSegment& previous = playlist.segments[i - 1];
    if (!segment.program_date_time || !starts[i - 1] || segment.discontinuity || ads[i] || ads[i - 1]) continue;
    skews[i] = *segment.program_date_time - (*starts[i - 1] + previous.duration);
  }
  return skews;
}

GetterAction on_attempt_event(const GetterState& state, AttemptEvent event, Micros now, const DownloadTimings& timings,
                              double unit_random) {
  GetterAction action;
  switch (event) {
    case AttemptEvent::SoftTimeout:
      // Race a second attempt; the first keeps going, and whichever finishes first wins.
      action.start_attempt = !state.gone && state.attempts_in_flight < timings.max_racing_attempts;
      break;
    case AttemptEvent::Completed:
      action.done = true;
      action.cancel_others = state.attempts_in_flight > 0;
      break;
    case AttemptEvent::Gone:
    case AttemptEvent::Failed:
      if (state.attempts_in_flight > 0) {
        // Another attempt may still win; but if every one left has passed its soft
        // timeout (hung on headers, or a body that stopped), the segment would wait on
        // them until their hard timeouts: race a fresh attempt after the retry delay.
        // The attempts in flight stay within max_racing_attempts, as the failed one left.
        bool all_hung = state.attempts_raced_in_flight == state.attempts_in_flight;
        if (event == AttemptEvent::Failed && !state.gone && all_hung &&
            state.attempts_in_flight < timings.max_racing_attempts &&
            now - state.created_at < timings.getter_give_up_after) {
          action.retry_in = jittered(timings.retry_delay, timings.jitter_fraction, unit_random);
        }
        break;
      }
      if (event == AttemptEvent::Gone || state.gone || now - state.created_at >= timings.getter_give_up_after) {
        action.done = true;
        action.gave_up = true;
      } else {
        action.retry_in = jittered(timings.retry_delay, timings.jitter_fraction, unit_random);
      }
      break;
  }
  return action;
}

}  // namespace wubd::core
