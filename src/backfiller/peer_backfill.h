#pragma once

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "wubd/backfiller/backfiller.h"
#include "wubd/io/http_client.h"
#include "wubd/io/task_group.h"
#include "wubd/io/timer.h"
#include "wubd/store/disk_trouble.h"
#include "wubd/store/file_writer.h"

// One peer's backfill: passes on its own schedule (core::next_pass), each one listing
// the peer's streams, variants, hours and files (tombstones included) and the extras
// directories it is told to copy, then downloading what is missing through the
// transfer engine (the peer's own queue and limit): segments and chat batches
// hash-checked, extras as they are. Tombstones are created, not downloaded.
namespace wubd::backfiller {

struct BackfillMetrics {
  core::CounterFamily& segments;    // {remote, stream, variant}
  core::CounterFamily& others;      // {remote, kind}: chat_batch, tombstone, extra
  core::CounterFamily& bytes;       // {remote}
  core::CounterFamily& errors;      // {remote, reason}
  core::CounterFamily& mismatches;  // {remote, stream, variant}
  core::CounterFamily& requests;    // {remote}: listing requests
  core::GaugeFamily& last_success;  // {remote}: unix seconds of the last clean pass
  core::CounterFamily& passes;      // {remote, kind, result}: passes ended (recent/full, ok/errors)
};

class PeerBackfill {
 public:
  PeerBackfill(uv_loop_t* loop, const BackfillConfig& config, std::string peer, store::SegmentStore& store,
               io::HttpClient& client, transfers::TransferEngine& engine, BackfillMetrics& metrics,
               store::DiskTrouble& disk);
  ~PeerBackfill();

  void start();
  void stop();
  const std::string& peer() const { return peer_; }
  PeerInfo info() const;
  // Starts a full pass now; false if one is running.
  bool run_now();

 private:
  struct Wanted;
  struct Download;
  struct Pass;

  void schedule();
  void begin_pass(core::PassKind kind);
  // GETs a listing; `take` gets a 200's body and returns why it cannot read it ("": taken).
  void fetch_listing(const std::string& path, std::function<std::string(const std::string& body)> take);
  // fetch_listing of a JSON array of names.
  void list(const std::string& path, std::function<void(std::vector<std::string>)> then);
  void on_variants(const std::string& stream, std::vector<std::string> variants);
  // One variant's hours; once all of the stream's variants are in, lists their union
  // in each variant, but for the hours whose digests say they are the same here.
  void on_hours(const std::string& stream, const std::string& variant, core::PeerHours hours);
  bool same_here(const std::string& stream, const std::string& variant, const std::string& hour);
  void on_names(const std::string& stream, const std::string& variant, const std::string& hour,
                const std::vector<std::string>& names);
  void create_tombstones(const std::string& stream, const std::string& variant, const std::string& hour,
                         const std::vector<std::string>& tombstones);
  void list_extras(const std::string& dir);
  void on_extras(const std::string& dir, const std::vector<std::string>& remote, const std::vector<std::string>& local);
  void maybe_download();
  void start_download(std::size_t index);
  void on_download_done(Download* download, const io::FetchOutcome& outcome);
  void on_committed(Download* download, const core::Result<std::string>& committed);
  // A download is over (fetched, failed or skipped): freed on the next turn.
  void release(Download* download);
  void maybe_finish();
  void error(const std::string& reason, const std::string& message);
  bool wanted(const std::vector<std::string>& filter, const std::string& name) const;

  uv_loop_t* loop_;
  const BackfillConfig& config_;
  std::string peer_;
  store::SegmentStore& store_;
  io::HttpClient& client_;
  transfers::TransferEngine& engine_;
  BackfillMetrics& metrics_;
  store::DiskTrouble& disk_;
  io::Timer timer_;
  std::mt19937_64 random_{std::random_device{}()};
  core::PassSchedule schedule_;
  std::unique_ptr<Pass> pass_;
  std::vector<io::RequestId> listing_requests_;
  PeerInfo last_;                   // the last pass's summary, for info()
  core::Micros next_pass_due_ = 0;  // loop time, while waiting
};

}  // namespace wubd::backfiller
