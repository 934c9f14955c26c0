#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "download_context.h"
#include "provider.h"
#include "segment_getter.h"
#include "wubd/io/timer.h"

// One stream worker per variant URL: polls the media playlist every ~2 s and starts
// a segment getter for every segment it has not seen. Decisions come from
// core::on_playlist_outcome; the manager is told through the callbacks below.
namespace wubd::downloader {

class StreamWorker {
 public:
  struct Callbacks {
    // The first fetch succeeded: older workers of the variant may retire.
    std::function<void(StreamWorker&)> working;
    // This worker wants to be replaced by one with a fresh URL (soft timeout,
    // 403/404, ENDLIST, a first fetch that failed). It may keep going meanwhile.
    std::function<void(StreamWorker&)> replacement_wanted;
    // Stopped polling (its getters may still run).
    std::function<void(StreamWorker&)> stopped;
    // Whether a segment starting at this time is already taken care of by another
    // getter of the variant (in flight or on disk); claims it when it is not.
    std::function<bool(core::Micros start)> claim_segment;
    // A getter finished (got_full false: gave up), so its claim can be released.
    std::function<void(core::Micros start, bool got_full)> segment_finished;
  };

  // `twitch`: Twitch's rules apply (titles other than `live` are ads, jumps of
  // PROGRAM-DATE-TIME make segments `suspect`).
  StreamWorker(DownloadContext& context, std::uint64_t id, std::string stream, std::string variant, std::string url,
               core::Micros url_fetched_at, bool twitch, Callbacks callbacks);
  ~StreamWorker();

  void start();
  // Stops polling; running getters go on until they finish. Never calls back.
  void stop();
  // Shutdown: stop polling and stop every getter (partials kept).
  void stop_all();

  std::uint64_t id() const { return id_; }
  const std::string& variant() const { return variant_; }
  core::Micros url_fetched_at() const { return url_fetched_at_; }
  bool polling() const { return polling_; }
  bool replacement_requested() const { return replacement_requested_; }
  // Getters still working.
  std::size_t getter_count() const;
  // The newest segment URI of the last playlist, or empty.
  std::string last_segment() const {
    return last_playlist_ && !last_playlist_->segments.empty() ? last_playlist_->segments.back().uri : "";
  }

 private:
  void fetch();
  void on_playlist(core::Micros fetch_started, const TextResult& text);
  void start_getters(const core::MediaPlaylist& playlist);
  // Fetches an fMP4 init section (EXT-X-MAP) once; the segments that need it start
  // when it is in (from the last playlist), or at the next poll if it failed.
  void fetch_map(const std::string& url);
  void schedule_next(core::Micros fetch_started);
  void want_replacement(const char* why);
  void end_polling();
  // Stops the poll timer and any fetch; false if it was not polling.
  bool halt_polling();
  std::string where() const;

  DownloadContext& context_;
  std::uint64_t id_;
  std::string stream_;
  std::string variant_;
  std::string url_;
  core::Micros url_fetched_at_;
  Callbacks callbacks_;
  std::set<std::string> warned_;  // playlist warnings already logged (at most 32)
  io::Timer poll_timer_;
  io::Timer soft_timer_;
  io::RequestId request_ = io::RequestId::None;
  bool polling_ = false;
  bool twitch_ = false;
  bool had_success_ = false;
  bool reported_working_ = false;  // told the manager it works (its first content)
  // A PROGRAM-DATE-TIME jumped: this worker's later segments are `suspect`.
  bool suspect_ = false;
  // fMP4 init sections by absolute URL, kept for the worker's life (a few KB each);
  // one fetch each at a time.
  std::map<std::string, std::shared_ptr<const std::string>> maps_;
  std::map<std::string, io::RequestId> map_fetches_;
  std::optional<core::MediaPlaylist> last_playlist_;
  bool replacement_requested_ = false;
  // Getters by segment URI as written in the playlist (null: seen, nothing to do);
  // URIs no longer in the playlist are forgotten once done.
  std::map<std::string, std::unique_ptr<SegmentGetter>> getters_;
};

}  // namespace wubd::downloader
