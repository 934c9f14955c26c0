#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "wubd/core/transfer_rules.h"
#include "wubd/io/http_client.h"
#include "wubd/io/timer.h"

// The transfer engine: one owner for every download the process makes (segment
// getters and backfills alike). Per source (an origin host or a peer) it keeps a
// queue, a concurrency limit and a minimum delay between starts, and a record per
// transfer that operators list through /jobs and may cancel. Limits and bookkeeping
// live here instead of in each caller.
namespace wubd::transfers {

// Names one transfer of one engine, for /jobs and cancel. Not an io::RequestId: the
// HTTP client's requests have their own ids, and mixing the two would cancel the
// wrong download.
enum class TransferId : std::uint64_t { None = 0 };

struct TransferRecord {
  TransferId id = TransferId::None;
  std::string source;
  std::string target;     // what it is for: "stream/variant/hour"
  std::string file_name;  // the segment's name, or the URL's last part
  core::TransferState state = core::TransferState::Initializing;
  std::uint64_t bytes = 0;
  std::string error;
  core::Micros queued_at = 0;    // wall clock, for operators
  core::Micros started_at = 0;   // 0 until InProgress
  core::Micros finished_at = 0;  // 0 until final
  // Bytes per second over the time it ran (so far, while it runs).
  double bytes_per_second(core::Micros now) const;
};

struct TransferSpec {
  std::string source;
  std::string target;
  std::string file_name;
  // The download. Its on_done runs exactly once — on completion, error, or an
  // operator's cancel (outcome.cancelled) — unless the caller abandon()s it first.
  io::FetchRequest request;
};

class TransferEngine {
 public:
  // `client` must outlive the engine. Sources without limits of their own get
  // `default_limits`. Finished records are kept in a ring of `finished_capacity`.
  TransferEngine(uv_loop_t* loop, io::HttpClient& client, core::SourceLimits default_limits,
                 std::size_t finished_capacity = 1000);
  ~TransferEngine();

  void set_limits(const std::string& source, core::SourceLimits limits);
  core::SourceLimits limits(const std::string& source) const;
  bool has_limits(const std::string& source) const { return limits_.count(source) > 0; }

  // Queues a transfer; it starts when its source's limits allow.
  TransferId submit(TransferSpec spec);
  // The caller lost interest (a racing attempt lost, shutdown): stops it, records it
  // Cancelled, and never calls its on_done. Unknown or finished ids are ignored.
  void abandon(TransferId id);
  // An operator's cancel: stops it, records it Cancelled (final: nothing that lands
  // later changes that), and tells the caller through on_done with `cancelled` set.
  // False if no such transfer is running or queued.
  bool cancel(TransferId id);

  // Records of queued, running and recently finished transfers, oldest first,
  // optionally only those in `state` and/or from `source`.
  std::vector<TransferRecord> list(std::optional<core::TransferState> state = std::nullopt,
                                   const std::string& source = {}) const;
  std::size_t active() const { return records_.size(); }
  std::size_t in_flight(const std::string& source) const;

  // Stops everything (abandon for all), for shutdown.
  void stop_all();

 private:
  struct Pending;
  struct Source {
    core::SourceState state;
    std::deque<TransferId> queue;
    std::unique_ptr<io::Timer> delay_timer;
  };

  Source& source(const std::string& name);
  void pump(const std::string& name);
  void begin(TransferId id);
  void on_done(TransferId id, const io::FetchOutcome& outcome);
  void finish(TransferId id, core::TransferEvent event, const std::string& error);
  TransferRecord* record(TransferId id);

  uv_loop_t* loop_;
  io::HttpClient& client_;
  core::SourceLimits default_limits_;
  std::map<std::string, core::SourceLimits> limits_;
  std::map<std::string, Source> sources_;
  std::uint64_t next_id_ = 1;
  std::map<TransferId, TransferRecord> records_;  // not final yet
  std::map<TransferId, std::unique_ptr<Pending>> pending_;
  core::BoundedRing<TransferRecord> finished_;
};

// The source of a URL for limits: `scheme://host:port`.
std::string source_of_url(const std::string& url);

}  // namespace wubd::transfers
