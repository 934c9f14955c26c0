#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "download_context.h"
#include "provider.h"
#include "stream_worker.h"
#include "wubd/io/timer.h"

// The streams manager of one stream: fetches the master playlist only when needed
// (at start, when a worker asks for a new URL, when a variant has no worker, before
// URLs get too old), starts a worker per variant, and retires older workers once a
// newer one works. Decisions come from core::master_fetch_wait and friends.
namespace wubd::downloader {

class StreamManager {
 public:
  StreamManager(DownloadContext& context, StreamConfig config);
  ~StreamManager();

  void start();
  // Shutdown: cancel every fetch, stop every worker and getter.
  void stop();

  const std::string& stream() const { return config_.name; }
  std::size_t worker_count() const;
  std::size_t getter_count() const;
  StreamInfo info() const;
  std::vector<WorkerInfo> worker_infos() const;
  // Fetches the master playlist now, unless a fetch is in flight.
  void fetch_master();

 private:
  void schedule_master_fetch();
  void on_master(const MasterResult& result);
  void start_worker(const std::string& variant, const std::string& url);
  StreamWorker* newest_worker(const std::string& variant) const;
  core::ManagerState manager_state() const;
  void on_working(StreamWorker& worker);
  void on_replacement_wanted(StreamWorker& worker);
  bool claim_segment(const std::string& variant, core::Micros start);
  void housekeeping();

  DownloadContext& context_;
  StreamConfig config_;
  std::unique_ptr<Provider> provider_;
  io::Timer master_timer_;
  io::Timer housekeeping_timer_;
  bool fetch_in_flight_ = false;
  std::optional<core::Micros> last_fetch_start_;
  bool live_ = true;
  bool ever_live_ = false;  // for wubd_stream_went_live_total
  bool refused_ = false;    // the origin refuses this viewer (Twitch: geoblock, entitlement)
  std::string last_error_;  // the last failure logged, so a repeat is not logged again
  bool warned_ambiguous_source_ = false;
  bool warned_audio_only_ = false;
  bool warned_withheld_ = false;
  std::set<std::string> warned_tags_;  // master playlist warnings already logged
  bool variants_known_ = false;
  std::vector<std::string> known_variants_;  // as of the last master playlist
  std::uint64_t next_worker_id_ = 1;
  // Oldest first; retired workers stay until their getters are done.
  std::vector<std::unique_ptr<StreamWorker>> workers_;
  // Per variant, segment start times some getter has (or had) in hand, so a worker
  // taking over does not download again what its predecessor is fetching.
  std::map<std::string, std::map<core::Micros, bool>> claims_;
};

}  // namespace wubd::downloader
