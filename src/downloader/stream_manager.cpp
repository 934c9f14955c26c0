#include "stream_manager.h"

#include <algorithm>
#include <chrono>
#include <set>

#include <spdlog/spdlog.h>

#include "downloader_log.h"
#include "wubd/io/clock.h"
#include "wubd/log/log.h"

namespace wubd::downloader {
namespace {

// Claims on segments this far in the past are dropped: no playlist lists them any more.
constexpr core::Micros kClaimMemory = 2 * core::kMicrosPerHour;

}  // namespace

StreamManager::StreamManager(DownloadContext& context, StreamConfig config)
    : context_(context),
      config_(std::move(config)),
      provider_(make_provider(context, config_)),
      master_timer_(context.loop),
      housekeeping_timer_(context.loop) {}

StreamManager::~StreamManager() { stop(); }

void StreamManager::start() {
  log::Fields fields{{"stream", config_.name}};
  log().info("stream {}: downloading from {} (variants: {})", config_.name, provider_->describe(),
             config_.variants.empty() ? "all" : fmt::format("{}", fmt::join(config_.variants, ",")));
  housekeeping_timer_.start(
      1000, [this] { housekeeping(); }, 1000);
  schedule_master_fetch();
}

void StreamManager::stop() {
  master_timer_.stop();
  housekeeping_timer_.stop();
  provider_->cancel();
  fetch_in_flight_ = false;
  for (auto& worker : workers_) worker->stop_all();
  workers_.clear();
}

StreamWorker* StreamManager::newest_worker(const std::string& variant) const {
  for (auto it = workers_.rbegin(); it != workers_.rend(); ++it) {
    if ((*it)->variant() == variant) return it->get();
  }
  return nullptr;
}

core::ManagerState StreamManager::manager_state() const {
  core::ManagerState state;
  state.fetch_in_flight = fetch_in_flight_;
  state.last_fetch_start = last_fetch_start_;
  state.stream_live = live_ && !refused_;
  state.variants_known = variants_known_;
  const std::vector<std::string>& wanted = config_.variants.empty() ? known_variants_ : config_.variants;
  for (const std::string& variant : wanted) {
    core::VariantWorkers entry{variant, false, false, std::nullopt};
    if (StreamWorker* worker = newest_worker(variant)) {
      entry.has_worker = worker->polling();
      entry.replacement_requested = worker->replacement_requested();
      entry.url_fetched_at = worker->url_fetched_at();
    }
    state.variants.push_back(std::move(entry));
  }
  return state;
}

StreamInfo StreamManager::info() const {
  StreamInfo info;
  info.stream = config_.name;
  info.state = refused_ ? "refused" : !variants_known_ ? "starting" : live_ ? "live" : "offline";
  info.workers = worker_count();
  info.getters = getter_count();
  info.last_error = last_error_;
  return info;
}

std::vector<WorkerInfo> StreamManager::worker_infos() const {
  std::vector<WorkerInfo> out;
  for (const auto& worker : workers_) {
    WorkerInfo info;
    info.stream = config_.name;
    info.variant = worker->variant();
    info.id = worker->id();
    info.url_age_seconds = double(context_.now() - worker->url_fetched_at()) / 1e6;
    info.state = worker->polling() ? (worker->replacement_requested() ? "replacing" : "polling") : "retiring";
    info.getters = worker->getter_count();
    info.last_segment = worker->last_segment();
    out.push_back(std::move(info));
  }
  return out;
}

void StreamManager::schedule_master_fetch() {
  if (context_.stopping) return;
  auto wait = core::master_fetch_wait(manager_state(), context_.now(), context_.timings, context_.unit_random());
  if (!wait) return;  // a fetch is in flight; its result reschedules
  master_timer_.start(DownloadContext::to_ms(*wait), [this] { fetch_master(); });
}

void StreamManager::fetch_master() {
  log::Fields fields{{"stream", config_.name}};
  if (fetch_in_flight_ || context_.stopping) return;
  fetch_in_flight_ = true;
  last_fetch_start_ = context_.now();
  context_.metrics.playlist_fetches.inc({{"stream", config_.name}, {"kind", "master"}});
  log().debug("stream {}: fetching master playlist", config_.name);
  provider_->fetch_master([this](const MasterResult& result) { on_master(result); });
}

void StreamManager::on_master(const MasterResult& result) {
  log::Fields fields{{"stream", config_.name}};
  fetch_in_flight_ = false;
  switch (result.kind) {
    case MasterResult::Kind::NotLive:
      // Not an error: the stream is just not up. Logged once per change; asked again
      // every --offline-interval.
      if (live_ || refused_) log().info("stream {}: not live ({})", config_.name, result.error);
      live_ = false;
      refused_ = false;
      context_.metrics.live.set({{"stream", config_.name}}, 0);
      break;
    case MasterResult::Kind::Refused:
      // Asked again gently; logged once per distinct answer.
      if (result.error != last_error_) log().warn("stream {}: {}", config_.name, result.error);
      last_error_ = result.error;
      refused_ = true;
      context_.metrics.live.set({{"stream", config_.name}}, 0);
      break;
    case MasterResult::Kind::Failed:
      context_.metrics.playlist_errors.inc(
          {{"stream", config_.name}, {"kind", "master"}, {"reason", result.timed_out ? "timeout" : "failed"}});
      // The same failure every few seconds is one line, not a flood.
      if (result.error != last_error_) {
        log().warn("stream {}: master playlist fetch failed: {}", config_.name, result.error);
      } else {
        log().debug("stream {}: master playlist fetch failed again: {}", config_.name, result.error);
      }
      last_error_ = result.error;
      break;
    case MasterResult::Kind::Ok: {
      if (!live_ || refused_) log().info("stream {}: live again", config_.name);
      if (!live_ || refused_ || !ever_live_) context_.metrics.went_live.inc({{"stream", config_.name}});
      ever_live_ = true;
      live_ = true;
      context_.metrics.live.set({{"stream", config_.name}}, 1);
      refused_ = false;
      last_error_.clear();
      variants_known_ = true;
      known_variants_.clear();
      for (const auto& [name, url] : result.variants) known_variants_.push_back(name);
      if (result.audio_only && !warned_audio_only_) {
        warned_audio_only_ = true;
        log().warn("stream {}: the master playlist offers audio only (variants: {}); is a login needed?", config_.name,
                   fmt::join(known_variants_, ","));
      }
      if (!result.withheld.empty() && !warned_withheld_) {
        warned_withheld_ = true;
        log().warn(
            "stream {}: the origin withholds some variants from this viewer (a login may be needed, see "
            "--twitch-auth-file): {}",
            config_.name, result.withheld.substr(0, 300));
      }
      for (const std::string& warning : result.warnings) {
        if (warned_tags_.size() < 32 && warned_tags_.insert(warning).second) {
          log().warn("stream {}: master playlist: {}", config_.name, warning);
        }
      }
      if (result.source_ambiguous && !warned_ambiguous_source_) {
        // Picking one would depend on the playlist's order: archive each under its name.
        warned_ambiguous_source_ = true;
        log().warn(
            "stream {}: several variants claim to be the source; none is archived as `source` "
            "(variants: {})",
            config_.name, fmt::join(known_variants_, ","));
      }
      for (const std::string& wanted : config_.variants) {
        if (std::find(known_variants_.begin(), known_variants_.end(), wanted) == known_variants_.end()) {
          log().warn("stream {}: variant {} is not in the master playlist (it has: {})", config_.name, wanted,
                     fmt::join(known_variants_, ","));
        }
      }
      std::vector<std::string> start =
          core::variants_to_start(manager_state(), known_variants_, config_.variants, context_.now(), context_.timings);
      for (const auto& [name, url] : result.variants) {
        if (std::find(start.begin(), start.end(), name) != start.end()) start_worker(name, url);
      }
      break;
    }
  }
  schedule_master_fetch();
}

void StreamManager::start_worker(const std::string& variant, const std::string& url) {
  StreamWorker::Callbacks callbacks;
  callbacks.working = [this](StreamWorker& worker) { on_working(worker); };
  callbacks.replacement_wanted = [this](StreamWorker& worker) { on_replacement_wanted(worker); };
  callbacks.stopped = [this](StreamWorker&) { schedule_master_fetch(); };
  callbacks.claim_segment = [this, variant](core::Micros start) { return claim_segment(variant, start); };
  callbacks.segment_finished = [this, variant](core::Micros start, bool got_full) {
    if (!got_full) claims_[variant].erase(start);  // let another worker try it
  };
  auto worker = std::make_unique<StreamWorker>(context_, next_worker_id_++, config_.name, variant, url, context_.now(),
                                               config_.provider == "twitch", std::move(callbacks));
  StreamWorker* raw = worker.get();
  workers_.push_back(std::move(worker));
  context_.metrics.workers_started.inc({{"stream", config_.name}, {"variant", variant}});
  raw->start();
}

void StreamManager::on_working(StreamWorker& working) {
  std::vector<core::WorkerInfo> infos;
  for (const auto& worker : workers_) {
    if (worker->polling()) infos.push_back({worker->id(), worker->variant()});
  }
  for (std::uint64_t id : core::workers_to_retire(infos, working.id())) {
    for (auto& worker : workers_) {
      if (worker->id() == id) worker->stop();
    }
  }
}

void StreamManager::on_replacement_wanted(StreamWorker& worker) {
  // Only the newest worker of a variant speaks for it; older ones are on their way out.
  if (newest_worker(worker.variant()) == &worker) schedule_master_fetch();
}

bool StreamManager::claim_segment(const std::string& variant, core::Micros start) {
  return claims_[variant].emplace(start, true).second;
}

void StreamManager::housekeeping() {
  // Workers that stopped polling and have no getters left go, unless they are the
  // newest of their variant (the manager reads their state to decide on a fetch).
  std::set<const StreamWorker*> newest;
  for (const auto& worker : workers_) newest.insert(newest_worker(worker->variant()));
  std::erase_if(workers_, [&](const std::unique_ptr<StreamWorker>& worker) {
    return !worker->polling() && worker->getter_count() == 0 && !newest.count(worker.get());
  });
  core::Micros horizon = io::wall_clock_now() - kClaimMemory;
  for (auto& [variant, claims] : claims_) {
    claims.erase(claims.begin(), claims.lower_bound(horizon));
  }
}

std::size_t StreamManager::worker_count() const {
  std::size_t n = 0;
  for (const auto& worker : workers_) n += worker->polling();
  return n;
}

std::size_t StreamManager::getter_count() const {
  std::size_t n = 0;
  for (const auto& worker : workers_) n += worker->getter_count();
  return n;
}

}  // namespace wubd::downloader
