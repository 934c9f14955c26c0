#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wubd/core/best_segments.h"
#include "wubd/core/result.h"
#include "wubd/core/time.h"

// The backfiller's decisions: which hours to look at, which segments a peer has that
// we lack, in which order to fetch them, and when the next pass is due. Pure.
namespace wubd::core {

// A peer's `/files/...` answer: a JSON array of strings, or an error saying what it
// was instead (parsed with simdjson; nothing is trusted).
Result<std::vector<std::string>> parse_name_list(std::string_view json);

// A summary of one hour directory a peer can compare with its own without listing it:
// how many files, and the sha256 (lowercase hex) of their sorted names, each followed
// by "\n" (the regular, non-hidden files of the directory, whatever they are).
struct HourDigest {
  std::int64_t count = 0;
  std::string sha256;
  bool operator==(const HourDigest&) const = default;
};

// A peer's answer to `/files/STREAM/VARIANT?digest=true`: a wubd node answers an
// object of each hour's digest (null where it has none at hand); a wubloader node
// ignores the parameter and answers the plain list of hours (`digests` then empty).
struct PeerHours {
  std::vector<std::string> hours;
  bool has_digests = false;
  std::map<std::string, std::optional<HourDigest>> digests;
};
Result<PeerHours> parse_peer_hours(std::string_view json);

// The sorted union of several variants' hour lists, hour names only: a peer's
// directory that is no variant (wubloader lists `emotes/ID` like one) holds other
// names, and asking for those as hours only earns errors.
std::vector<std::string> hours_union(const std::vector<std::vector<std::string>>& per_variant);

// The hour names of the last `count` hours up to and including the hour of `now`,
// oldest first. `count` < 1 is an error.
Result<std::vector<std::string>> last_hours(int count, Micros now);

// A copy of an explicit list of hours, sorted: the caller's list is never touched
// (wubloader once sorted the caller's list in place).
std::vector<std::string> explicit_hours(const std::vector<std::string>& hours);

struct FilesToCopy {
  // Segments and chat batches to download (hash-checked), in name order.
  std::vector<std::string> fetch;
  // Tombstones the peer has and we lack: created here as empty files, so that a
  // deletion spreads.
  std::vector<std::string> tombstones;
  std::vector<std::pair<std::string, std::string>> skipped;  // name, why (bad name, temp)
  std::size_t too_recent = 0;    // segments left for the downloader (younger than recent_cutoff)
  std::size_t deleted_here = 0;  // files a local tombstone deletes: never copied back
  // Segments within 1 ms of a local one that is otherwise the same (duration, type,
  // hash): the same segment, named with a start rounded differently.
  std::size_t near_duplicates = 0;
};

// What to copy of one hour: the peer's names (`/files/S/V/HOUR?tombstones=true`)
// minus what `local` holds. Names that do not parse and `temp` files are skipped with
// a reason; segments that started less than `recent_cutoff` before `now` are left
// alone, so the downloader gets the first go at them (chat batches have no cutoff,
// as in wubloader).
FilesToCopy files_to_copy(std::string_view hour, const std::vector<std::string>& remote, const HourListing& local,
                          Micros now, Micros recent_cutoff);

// The tolerance of near_duplicates (wubloader's EPSILON).
inline constexpr Micros kNearDuplicateTolerance = kMicrosPerMilli;

enum class FillOrder { Random, Forward, Reverse };

// Parses `random`, `forward` or `reverse`.
Result<FillOrder> parse_fill_order(std::string_view text);

// Orders (hour, name) pairs for download. Forward and reverse are time order.
void order_downloads(std::vector<std::pair<std::string, std::string>>& downloads, FillOrder order,
                     std::mt19937_64& random);

enum class PassKind { None, Recent, Full };

struct PassSchedule {
  std::optional<Micros> last_recent;  // start of the last pass of either kind (a full pass is also recent)
  std::optional<Micros> last_full;
};

struct PassDecision {
  PassKind kind = PassKind::None;  // None: wait, then ask again
  Micros wait = 0;
};

// Right after start a recent pass, then a full one; afterwards a recent pass every
// `fill_wait` and a full pass every `full_fill_wait`, never negative waits.
PassDecision next_pass(const PassSchedule& schedule, Micros now, Micros fill_wait, Micros full_fill_wait);

}  // namespace wubd::core
