#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wubd/core/best_segments.h"
#include "wubd/core/result.h"
#include "wubd/core/segment_name.h"
#include "wubd/core/time.h"

// Everything wubloader keeps in an hour directory besides segments, and how a
// directory's names sort into kinds:
// - chat batches, `MM:SS-HASH.json` (HASH: url-safe base64 of the sha256 of the bytes),
//   which wubloader's chat archiver writes under a `chat` "variant";
// - tombstones, `STEM.tombstone`: an empty marker saying the file `STEM.ts` (or
//   `STEM.json`) beside it is deleted. A tombstoned file is treated as absent by every
//   reader, and tombstones are copied between nodes so that a deletion spreads.
namespace wubd::core {

// The variant directory wubloader keeps chat in: never video.
inline constexpr std::string_view kChatVariant = "chat";
inline bool is_chat_variant(std::string_view variant) { return variant == kChatVariant; }

struct ChatBatchName {
  Micros start = 0;  // the batch's minute and second within its hour
  std::string hash;  // as written: url-safe base64 of the sha256 of the bytes
};

// Parses `MM:SS-HASH.json` in the hour starting at `hour_start`; errors say which
// part is wrong.
Result<ChatBatchName> parse_chat_batch_name(Micros hour_start, std::string_view file_name);

inline constexpr std::string_view kTombstoneSuffix = ".tombstone";
bool is_tombstone_name(std::string_view file_name);
// A file name without its last extension, as Python's os.path.splitext cuts it:
// what a tombstone and the file it marks have in common.
std::string_view file_stem(std::string_view file_name);
// The tombstone that marks `file_name` as deleted: `STEM.tombstone`.
std::string tombstone_name(std::string_view file_name);

// One hour directory's regular, non-hidden file names sorted into kinds.
struct HourFiles {
  std::vector<StoredSegment> segments;                        // parseable segments (temp included) without a tombstone
  std::vector<std::string> chat_batches;                      // sorted, without a tombstone
  std::vector<std::string> tombstones;                        // sorted
  std::vector<std::pair<std::string, std::string>> rejected;  // name, why it is none of these
};

// Sorts `file_names` (found in the directory of the hour `hour`, which starts at
// `hour_start`): a name that is a segment or chat batch with a tombstone beside it
// is left out; a tombstone counts whatever it marks. Hidden names must be removed
// first.
HourFiles sort_hour_files(std::string_view hour, Micros hour_start, const std::vector<std::string>& file_names);

}  // namespace wubd::core
