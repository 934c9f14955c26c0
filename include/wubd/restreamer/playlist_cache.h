#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>

// Rendered media playlists, kept so that the many viewers of one range (and players
// re-polling it) cost a lookup instead of a render. An entry is valid only for the
// exact listings it was rendered from: callers pass the store's version of the
// range's hour listings, which changes whenever any of them is read again.
namespace wubd::restreamer {

class PlaylistCache {
 public:
  explicit PlaylistCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // The cached body for `key` if it was rendered from listings at `version`.
  std::shared_ptr<const std::string> find(const std::string& key, std::uint64_t version);
  // Stores a body, evicting the least recently used entries beyond max_bytes.
  // Bodies larger than max_bytes are not kept.
  void insert(const std::string& key, std::uint64_t version, std::shared_ptr<const std::string> body);

  std::size_t bytes() const { return bytes_; }
  std::size_t entries() const { return entries_.size(); }

 private:
  struct Entry {
    std::uint64_t version;
    std::shared_ptr<const std::string> body;
    std::list<std::string>::iterator lru_position;
  };
  void erase(std::map<std::string, Entry>::iterator it);

  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recently used first
};

}  // namespace wubd::restreamer
