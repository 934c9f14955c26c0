#include "wubd/restreamer/playlist_cache.h"

namespace wubd::restreamer {

std::shared_ptr<const std::string> PlaylistCache::find(const std::string& key, std::uint64_t version) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  if (it->second.version != version) {
    erase(it);  // rendered from listings that have changed since
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second.lru_position);
  return it->second.body;
}

void PlaylistCache::insert(const std::string& key, std::uint64_t version, std::shared_ptr<const std::string> body) {
  if (auto it = entries_.find(key); it != entries_.end()) erase(it);
  if (!body || body->size() > max_bytes_) return;
  while (bytes_ + body->size() > max_bytes_ && !lru_.empty()) erase(entries_.find(lru_.back()));
  lru_.push_front(key);
  bytes_ += body->size();
  entries_.emplace(key, Entry{version, std::move(body), lru_.begin()});
}

void PlaylistCache::erase(std::map<std::string, Entry>::iterator it) {
  bytes_ -= it->second.body->size();
  lru_.erase(it->second.lru_position);
  entries_.erase(it);
}

}  // namespace wubd::restreamer
