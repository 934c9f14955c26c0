#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wubd/core/hls_playlist.h"
#include "wubd/core/time.h"

// The downloader's decisions as functions of (state, event, now): when to fetch a
// master or media playlist, when a worker stops or asks to be replaced, which workers
// a working one retires, when a segment getter races, retries or gives up. The
// services carry the decisions out on the loop; tests call these directly.
namespace wubd::core {

// Every timing of the downloader, with the defaults the command line documents.
struct DownloadTimings {
  Micros master_min_interval = 5 * kMicrosPerSecond;  // between master playlist fetches
  // Between master playlist fetches while the stream is not live (or refused): an
  // offline channel is asked gently (wubloader: 20 s).
  Micros offline_interval = 20 * kMicrosPerSecond;
  Micros playlist_interval = 2 * kMicrosPerSecond;  // between media playlist fetches
  Micros playlist_soft_timeout = 5 * kMicrosPerSecond;
  Micros playlist_hard_timeout = 90 * kMicrosPerSecond;
  Micros segment_headers_soft_timeout = 5 * kMicrosPerSecond;
  Micros segment_headers_hard_timeout = 30 * kMicrosPerSecond;
  Micros segment_total_soft_timeout = 15 * kMicrosPerSecond;
  Micros segment_total_hard_timeout = 240 * kMicrosPerSecond;
  // A download that took this long is stored `suspect`: Twitch has been seen ending
  // stuck responses after 60 s with valid-looking but incomplete data (wubloader: 59 s).
  Micros segment_suspect_after = 59 * kMicrosPerSecond;
  Micros retry_delay = 2 * kMicrosPerSecond;  // after a failed segment attempt
  Micros max_url_age = 20 * kMicrosPerHour;   // media playlist URLs expire (Twitch: ~24 h)
  // A getter that has not got its segment after this long gives up: a live origin
  // has long dropped it by then, and endless getters would pile up.
  Micros getter_give_up_after = 10 * 60 * kMicrosPerSecond;
  double jitter_fraction = 0.1;  // every interval varies by ±10%
  int max_racing_attempts = 2;   // attempts of one segment in flight at once
};

// `base` varied by ±`fraction`; `unit` is a uniform random number in [0, 1).
Micros jittered(Micros base, double fraction, double unit);

// How long to wait, from `now`, before an operation that must start no sooner than
// `interval` after the previous start. Never negative (a slow fetch does not make
// the next one overdue by a negative amount).
Micros wait_before_next(Micros now, std::optional<Micros> last_start, Micros interval);

// ---- Streams manager -------------------------------------------------------------

// What the manager knows about one variant it downloads.
struct VariantWorkers {
  std::string variant;
  bool has_worker = false;               // a worker is running for it
  bool replacement_requested = false;    // its newest worker asked for a new URL
  std::optional<Micros> url_fetched_at;  // when the newest worker's URL came from the master
};

struct ManagerState {
  bool fetch_in_flight = false;
  std::optional<Micros> last_fetch_start;
  bool stream_live = true;               // false after a 404 master ("not live")
  std::vector<VariantWorkers> variants;  // every wanted variant (all seen, if none chosen)
  bool variants_known = false;           // a master playlist has been read at least once
};

// Whether a variant needs a new worker from the next master playlist: it has none,
// its worker asked for one, or its URL is about to expire.
bool needs_new_worker(const VariantWorkers& variant, Micros now, const DownloadTimings& timings);

// When to fetch the master playlist next, as a wait from now; nullopt while a fetch
// is in flight. A fetch is due at start, when a variant needs a new worker, and
// before the newest URL gets too old; fetches are spaced by the jittered minimum
// interval (the offline interval while the stream is not live). With nothing due,
// the wait runs until the oldest URL's age limit.
std::optional<Micros> master_fetch_wait(const ManagerState& state, Micros now, const DownloadTimings& timings,
                                        double unit_random);

// Of the variants in a freshly fetched master playlist, those that get a new worker:
// the wanted ones (all, if `wanted` is empty) that need one.
std::vector<std::string> variants_to_start(const ManagerState& state, const std::vector<std::string>& available,
                                           const std::vector<std::string>& wanted, Micros now,
                                           const DownloadTimings& timings);

struct WorkerInfo {
  std::uint64_t id = 0;  // increasing: a higher id is a newer worker
  std::string variant;
};

// A worker whose first fetch succeeded retires every older worker of its variant.
std::vector<std::uint64_t> workers_to_retire(const std::vector<WorkerInfo>& workers, std::uint64_t working_id);

// ---- Stream worker ---------------------------------------------------------------

enum class PlaylistOutcome {
  Ok,       // parsed, no ENDLIST
  EndList,  // parsed, with #EXT-X-ENDLIST: the stream ended (it may come back)
  Gone,     // 403 or 404: the URL expired or the stream is over
  Failed,   // any other status, a network error, a hard timeout, a bad playlist
};

struct WorkerDecision {
  bool keep_polling = true;
  bool report_working = false;       // tell the manager: retire the older workers
  bool request_replacement = false;  // ask the manager for a fresh URL
};

// What a worker has been through so far.
struct WorkerHistory {
  bool had_success = false;       // a playlist was fetched and parsed
  bool reported_working = false;  // the manager was told it works
};

// What a worker does after a media playlist fetch. The segments of a playlist that
// parsed (Ok or EndList) are fetched in every case. A worker reports working once,
// with its first playlist that has content (a segment that is not an ad): a fresh URL
// that opens with a pre-roll must not retire the worker still recording the stream,
// or the pre-roll's length would be a hole (wubloader does the same).
WorkerDecision on_playlist_outcome(const WorkerHistory& before, PlaylistOutcome outcome, bool has_content);

// Whether a segment is an ad: its playlist's own marks (HlsSegment::ad), and, for
// Twitch, any title other than `live` (ads are titled `Amazon|…` and the like).
bool is_ad(const HlsSegment& segment, bool twitch);

// PROGRAM-DATE-TIMEs that jump: for each segment, its given date minus the previous
// segment's start plus duration; 0 where nothing compares (the first, a segment
// without a date of its own, one after a DISCONTINUITY, one next to an ad, whose
// breaks replace stream time). Twitch has been seen shifting every later date of a
// playlist by such a jump (wubloader #539): more than kMaxDateSkew makes a worker's
// later segments `suspect` and asks for a new worker.
inline constexpr Micros kMaxDateSkew = 10 * kMicrosPerMilli;
std::vector<Micros> date_skews(const MediaPlaylist& playlist, const std::vector<bool>& ads);

// ---- Segment getter --------------------------------------------------------------

struct GetterState {
  Micros created_at = 0;
  int attempts_in_flight = 0;
  bool gone = false;  // an attempt saw 403/404: never start another
  // Of those in flight, how many passed a soft timeout: each has raced its one racer
  // and will not race again, so if they all hang, only a failure's retry can help.
  int attempts_raced_in_flight = 0;
};

enum class AttemptEvent {
  SoftTimeout,  // an attempt passed its soft headers or soft total timeout
  Completed,    // an attempt has every byte
  Gone,         // an attempt got 403 or 404
  Failed,       // an attempt failed otherwise (status, network, hard timeout)
};

struct GetterAction {
  bool start_attempt = false;  // start another (racing) attempt now
  bool cancel_others = false;  // cancel every other attempt in flight
  bool done = false;           // the getter is finished (got it, or gave up)
  bool gave_up = false;
  std::optional<Micros> retry_in;  // start a new attempt after this wait
};

// `state.attempts_in_flight` counts the attempt the event is about, for SoftTimeout;
// for Completed/Gone/Failed that attempt has already ended and is not counted.
GetterAction on_attempt_event(const GetterState& state, AttemptEvent event, Micros now, const DownloadTimings& timings,
                              double unit_random);

}  // namespace wubd::core
