#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "wubd/core/result.h"
#include "wubd/io/beneath.h"

// Extras: directories below the base that hold files other than segments, which
// wubloader serves and copies as they are (its chat archiver keeps emote images in
// `emotes/ID/THEME-SCALE`). An extras directory is never a stream.
namespace wubd::store {

// The extras directory wubloader's chat archiver writes; never a stream, even when
// --backfill-extras does not name it.
inline constexpr const char* kEmotesDirectory = "emotes";

// Every regular file below `dir` (a directory below the base), recursively, as paths
// relative to it (`25/dark-1.0`), sorted: what `/extras/DIR` answers. Hidden names,
// symlinks (never followed, at any level) and files being written (`*.temp`) are left
// out. A missing directory lists as empty. More than `max_files` files, or a tree
// deeper than kMaxExtrasDepth, is an error saying so. Blocking: run it in the threadpool.
core::Result<std::vector<std::string>> list_extras(const io::BeneathPath& dir, std::size_t max_files);

inline constexpr std::size_t kMaxExtrasFiles = 200'000;
inline constexpr int kMaxExtrasDepth = 16;

}  // namespace wubd::store
