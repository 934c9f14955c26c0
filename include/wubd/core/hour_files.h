#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
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

// An hour directory's regular, non-hidden file names as the store's index keeps them:
// one text, the names sorted, each followed by '\n' (about 66 bytes a segment; a
// vector of strings costs ~115). Its sha256 is the hour's digest (HourDigest). A name
// holding a line break is left out by both functions that make one: the text could
// not hold it, and no segment, chat batch or tombstone name has one.
std::string join_names(const std::vector<std::string>& sorted_names);
std::vector<std::string_view> split_names(std::string_view names_text);
std::size_t count_names(std::string_view names_text);
// `names_text` with `changes` laid over it: a name mapped to true is there, one
// mapped to false is gone (what inotify said since the text was read).
std::string merge_names(std::string_view names_text, const std::map<std::string, bool>& changes);

// What one name in an hour directory is, judged the same way by every reader of one
// (the store's listings, the backfiller's copy plan).
enum class HourFileKind {
  Segment,      // `TIME-DURATION-TYPE-HASH.ts`, `temp` ones included (a download in progress)
  ChatBatch,    // `MM:SS-HASH.json`
  Tombstone,    // `STEM.tombstone`
  WritingTemp,  // `NAME.<uuid>.temp`: a chat batch or extra being written, as wubloader writes one
  Bad,          // none of these; `reason` says what is wrong with it
};
struct HourFile {
  HourFileKind kind = HourFileKind::Bad;
  SegmentNameView segment;  // of a Segment: views into the name
  std::string reason;       // of a Bad name
};
HourFile classify_hour_file(Micros hour_start, std::string_view name);

// One hour directory's names sorted into kinds; views into the names and `hour`.
struct HourFiles {
  std::vector<StoredSegment> segments;         // parseable segments (temp included) without a tombstone
  std::vector<std::string_view> chat_batches;  // sorted, without a tombstone
  std::vector<std::string_view> tombstones;    // sorted
  std::vector<std::pair<std::string_view, std::string>> rejected;  // name, why it is none of these
};

// Sorts `names_text` (join_names; found in the directory of the hour `hour`, which
// starts at `hour_start`): a name that is a segment or chat batch with a tombstone
// beside it is left out; a tombstone counts whatever it marks.
HourFiles sort_hour_files(std::string_view hour, Micros hour_start, std::string_view names_text);

// A file's size in bytes, or -1 if it is gone.
using FileSize = std::function<std::int64_t(std::string_view file_name)>;

// The listing of the hour directory `hour` made of its names (join_names): sorted
// into kinds, sizes asked of `size_of` only for the segments whose size decides
// between copies (needs_size; a cold day-long playlist would otherwise cost 43,200
// stat calls), the best copies chosen. Pure apart from `size_of`, so the store makes
// listings in the threadpool. Names that are nothing an hour holds go to `rejected`.
// The version is left for the caller.
std::shared_ptr<HourListing> make_hour_listing(std::string_view hour, Micros hour_start,
                                               std::shared_ptr<const std::string> names_text, const FileSize& size_of,
                                               std::vector<std::pair<std::string, std::string>>& rejected);

}  // namespace wubd::core
