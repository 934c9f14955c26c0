#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "wubd/core/result.h"
#include "wubd/io/beneath.h"
#include "wubd/restreamer/cut_slots.h"

// Clips a browser can seek (/cut/S/V.mp4): each is made once by ffmpeg into a file
// (MP4 with its index first, `faststart`), then served from there with byte ranges,
// to every request for the same clip. The files live in BASE/.wubd-cut-cache (hidden:
// never listed, served under /segments or copied by peers), which is emptied when
// wubd starts and when it stops, and held under `max_bytes` by deleting the least
// recently used clips (a clip being sent keeps its open file whatever happens to its
// name). Loop only.
namespace wubd::restreamer {

class CutCache {
 public:
  CutCache(uv_loop_t* loop, const std::string& base_dir, std::uint64_t max_bytes);
  ~CutCache();
  CutCache(const CutCache&) = delete;
  CutCache& operator=(const CutCache&) = delete;

  // A made clip: its file, open, and its size.
  struct ClipFile {
    std::shared_ptr<const io::OwnedFd> file;
    std::int64_t size = 0;
  };
  using Ready = std::function<void(const core::Result<ClipFile>& clip)>;
  // How to make a clip: ffmpeg's argument list without its output (the cache adds the
  // file it writes) for the streams the clip has (`probe`, the first segment, is read
  // in the threadpool to know which), the segment files fed to each of its inputs,
  // and the cut slot the making holds.
  struct Recipe {
    io::BeneathPath probe;
    std::function<std::vector<std::string>(bool has_video, bool has_audio)> argv;
    std::vector<std::vector<io::BeneathPath>> inputs;
    std::shared_ptr<CutSlots::Slot> slot;
  };

  // `ready` gets the clip of `key`: at once if it is made, once it is if it is being
  // made, or after `recipe` (called only then) made it. Returns the request's place:
  // dropping it means the requester is gone (`ready` will not run); a clip being made
  // that nobody waits for any more is abandoned (ffmpeg killed, its file removed).
  std::shared_ptr<void> request(const std::string& key, const std::function<Recipe()>& recipe, Ready ready);
  // Whether `key` is made or being made (then no slot is needed to ask for it).
  bool has(const std::string& key) const;

  std::uint64_t bytes() const;  // of the clips made and kept
  std::size_t clips() const;
  const std::string& directory() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace wubd::restreamer
