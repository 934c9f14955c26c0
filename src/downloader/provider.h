#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "download_context.h"

// Providers turn a stream into the URLs of its variants' media playlists.
namespace wubd::downloader {

struct MasterResult {
  enum class Kind { Ok, NotLive, Failed };
  Kind kind = Kind::Failed;
  std::vector<std::pair<std::string, std::string>> variants;  // name, absolute media playlist URL
  std::string error;  // for NotLive and Failed: what happened, for the log
  bool timed_out = false;
  bool source_ambiguous = false;  // several variants claimed to be the source
};

class Provider {
 public:
  virtual ~Provider() = default;
  // Fetches the master playlist; `done` runs once, on the loop, unless cancel()ed
  // first. One fetch at a time.
  virtual void fetch_master(std::function<void(MasterResult)> done) = 0;
  virtual void cancel() = 0;
  // For logs: `hls https://…` or `twitch channel`.
  virtual std::string describe() const = 0;
};

std::unique_ptr<Provider> make_provider(DownloadContext& context, const StreamConfig& stream);

using io::TextResult;

// io::fetch_text of a playlist or JSON (up to kMaxPlaylistBytes) with a hard total
// timeout; returns its transfer id.
io::TransferId fetch_text(DownloadContext& context, io::FetchRequest request, std::uint64_t timeout_ms,
                          std::function<void(TextResult)> done);

}  // namespace wubd::downloader
