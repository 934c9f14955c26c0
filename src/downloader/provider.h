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
  // Refused: the origin will not serve this viewer (a geoblock, an entitlement); asked
  // again as gently as a stream that is not live.
  enum class Kind { Ok, NotLive, Failed, Refused };
  Kind kind = Kind::Failed;
  std::vector<std::pair<std::string, std::string>> variants;  // name, absolute media playlist URL
  std::string error;                                          // for NotLive and Failed: what happened, for the log
  bool timed_out = false;
  bool source_ambiguous = false;      // several variants claimed to be the source
  bool audio_only = false;            // every variant is audio only
  std::string withheld;               // what the origin says it withholds (Twitch's session data)
  std::vector<std::string> warnings;  // tags skipped in the master playlist
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
// timeout; returns its request id (for HttpClient::cancel).
io::RequestId fetch_text(DownloadContext& context, io::FetchRequest request, std::uint64_t timeout_ms,
                         std::function<void(TextResult)> done);

}  // namespace wubd::downloader
