#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "download_context.h"
#include "wubd/io/timer.h"
#include "wubd/store/segment_writer.h"

// One segment getter per new segment URI: loops until a `full` copy is on disk,
// racing a second attempt when the first is slow, retrying after failures, giving
// up on 403/404. Decisions come from core::on_attempt_event.
namespace wubd::downloader {

struct SegmentJob {
  std::string stream;
  std::string variant;
  std::string url;  // absolute
  core::Micros start = 0;
  core::Micros duration = 0;
  // fMP4: the init section (EXT-X-MAP) written before the fragment, and hashed with
  // it, so each file decodes on its own and names agree with wubloader's.
  std::shared_ptr<const std::string> init;
  // Stored as `suspect`, not `full`: its worker saw PROGRAM-DATE-TIME jump.
  bool suspect = false;
};

class SegmentGetter {
 public:
  // `on_finished` runs once, when the getter got its segment or gave up; the owner
  // must not destroy the getter inside it (io::defer_delete it).
  SegmentGetter(DownloadContext& context, SegmentJob job, std::function<void(bool got_full)> on_finished);
  ~SegmentGetter();

  void start();
  // Shutdown: attempts with data become `partial`, the others are removed.
  void stop();
  bool done() const { return done_; }
  const SegmentJob& job() const { return job_; }

 private:
  struct Attempt {
    int number = 0;
    core::Micros started_at = 0;
    transfers::TransferId transfer = transfers::TransferId::None;
    std::string finished_transfer;  // its id, for the lines said once the file is renamed
    long status = 0;
    bool headers_done = false;
    bool raced = false;  // passed a soft timeout (and raced then): it hangs, or is slow
    std::unique_ptr<store::SegmentWriter> writer;
    store::DiskTrouble::Ticket disk_ticket = 0;  // the disk's failures when the writer was made
    std::uint64_t body_bytes = 0;                // of the response, the init section not counted
    std::optional<core::Error> write_error;      // the file could not be created or written
    std::unique_ptr<io::Timer> soft_headers;
    std::unique_ptr<io::Timer> soft_total;
  };

  void start_attempt();
  bool on_headers(Attempt& attempt, long status);
  bool on_data(Attempt& attempt, std::string_view bytes);
  void on_attempt_done(Attempt* attempt, const io::FetchOutcome& outcome);
  void on_soft_timeout(Attempt* attempt, const char* which);
  void apply(const core::GetterAction& action);
  // Ends an attempt that lost, failed or was stopped: keeps its bytes as `partial`
  // if asked and there are some, removes the temp file otherwise.
  void end_attempt(Attempt& attempt, bool keep_partial);
  // An attempt with every byte: its file is renamed off the loop, then the event applies.
  void commit(std::unique_ptr<Attempt> attempt);
  void on_committed(Attempt* attempt, const char* doubt, const core::Result<std::string>& committed);
  void on_partial_committed(store::SegmentWriter* writer, const core::Result<std::string>& committed);
  void report_commit_error(const core::Error& error) noexcept;
  std::unique_ptr<Attempt> take(Attempt* attempt);
  core::GetterState state() const;
  void finish(bool got_full);
  std::string where() const;

  DownloadContext& context_;
  SegmentJob job_;
  std::function<void(bool)> on_finished_;
  core::Micros created_at_;
  core::Micros seen_at_;                              // precise_now() at creation, for the seen-to-full latency
  std::vector<std::unique_ptr<Attempt>> attempts_;    // downloading
  std::vector<std::unique_ptr<Attempt>> committing_;  // got every byte; the file is being renamed
  std::vector<std::unique_ptr<store::SegmentWriter>> partials_;  // ended attempts' bytes being kept
  io::Timer retry_timer_;
  int attempts_started_ = 0;
  bool gone_ = false;
  bool done_ = false;
  bool suspect_ = false;  // got a copy, but only a suspect one
};

}  // namespace wubd::downloader
