#include "wubd/restreamer/playlist_cache.h"

#include <gtest/gtest.h>

namespace wubd::restreamer {
namespace playlist_cache_test {

std::shared_ptr<const std::string> body(size_t n) { return std::make_shared<const std::string>(n, 'x'); }

TEST(PlaylistCache, HitsOnlyAtTheSameVersion) {
  PlaylistCache cache(100);
  cache.insert("a", 1, body(10));
  EXPECT_NE(cache.find("a", 1), nullptr);
  EXPECT_EQ(cache.find("a", 2), nullptr) << "rendered from older listings";
  EXPECT_EQ(cache.find("a", 1), nullptr) << "a stale entry is dropped";
  EXPECT_EQ(cache.find("b", 1), nullptr);
}

TEST(PlaylistCache, BoundedByBytesEvictingLeastRecentlyUsed) {
  PlaylistCache cache(100);
  cache.insert("a", 1, body(40));
  cache.insert("b", 1, body(40));
  ASSERT_NE(cache.find("a", 1), nullptr);  // b is now the least recently used
  cache.insert("c", 1, body(40));
  EXPECT_EQ(cache.find("b", 1), nullptr);
  EXPECT_NE(cache.find("a", 1), nullptr);
  EXPECT_NE(cache.find("c", 1), nullptr);
  EXPECT_EQ(cache.bytes(), 80u);
  cache.insert("huge", 1, body(101));
  EXPECT_EQ(cache.find("huge", 1), nullptr) << "larger than the whole cache: not kept";
  cache.insert("a", 2, body(10));
  EXPECT_EQ(cache.bytes(), 50u) << "replacing an entry releases its bytes";
  EXPECT_EQ(cache.entries(), 2u);
}

}  // namespace playlist_cache_test
}  // namespace wubd::restreamer
