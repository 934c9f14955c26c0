#include "wubd/core/live_playlist.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "segment_refs.h"

namespace wubd::core {
namespace live_playlist_test {

constexpr Micros kSecond = kMicrosPerSecond;
constexpr Micros kSettle = 15 * kSecond;

Micros hour_start() { return *parse_time("2026-11-21T04:00:00Z"); }

// A growing archive of one variant, in one hour: segments of 2 s named by the
// second they start at, as the store would list them.
class Archive {
 public:
  void add(int second, SegmentType type = SegmentType::Full) {
    StoredSegment s;
    s.name.start = hour_start() + second * kSecond;
    s.name.duration = 2 * kSecond;
    s.name.type = type;
    s.name.hash = kept("s" + std::to_string(second) + (type == SegmentType::Full ? "" : "p"));
    s.hour = kept(format_hour(s.name.start));
    s.file_name = kept(format_segment_name(s.name));
    s.size_bytes = 1000;
    segments_.push_back(s);
    newest_end_ = std::max(newest_end_, s.name.end());
  }
  void add_run(int first, int last) {
    for (int second = first; second <= last; second += 2) add(second);
  }

  // The range's best segments now, leaving out what `held` holds.
  std::vector<SegmentOrHole> select(const std::vector<TimeRange>& held) const {
    auto listing = std::make_shared<HourListing>();
    listing->segments = segments_;
    listing->best = best_by_start(listing->segments);
    HourLookup lookup = [&](Micros) { return listing; };
    return best_segments(lookup, {hour_start()}, hour_start(), hour_start() + kMicrosPerHour, held);
  }

 private:
  std::vector<StoredSegment> segments_;

 public:
  // The wall clock a second after the newest segment ended: the stream is arriving.
  Micros live_now() const { return newest_end_ + kSecond; }

 private:
  Micros newest_end_ = 0;
};

// "0 2 _ 6 ~": seconds of the segments, `_` a hole, a trailing `~` when live.
std::string labels(const std::vector<SegmentOrHole>& segments) {
  std::string out;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (!out.empty()) out += ' ';
    if (segments[i] != nullptr) {
      out += std::to_string((segments[i]->name.start - hour_start()) / kSecond);
    } else {
      out += i + 1 == segments.size() ? "~" : "_";
    }
  }
  return out;
}

// What a player polling the live playlist sees: each poll's segments.
class Player {
 public:
  explicit Player(const Archive& archive) : archive_(archive) {}

  std::string poll() {
    auto select = [&](const std::vector<TimeRange>& held) { return archive_.select(held); };
    std::vector<SegmentOrHole> segments = playlist_segments(select, history_, kSettle, archive_.live_now());
    std::vector<std::string> names;
    for (const SegmentOrHole& s : segments) {
      if (s != nullptr) names.emplace_back(s->file_name);
    }
    // RFC 8216 6.2.1: what was listed before is still listed, in the same places.
    EXPECT_GE(names.size(), seen_.size());
    for (std::size_t i = 0; i < seen_.size() && i < names.size(); ++i) {
      EXPECT_EQ(names[i], seen_[i]) << "segment " << i << " of the live playlist changed";
    }
    seen_ = names;
    return labels(segments);
  }

 private:
  const Archive& archive_;
  LiveHistory history_;
  std::vector<std::string> seen_;
};

TEST(LivePlaylistTest, AHoleNearTheEdgeEndsThePlaylistUntilItSettles) {
  Archive archive;
  archive.add_run(0, 2);
  archive.add(6);  // 4 is late: a racer, a slow download
  Player player(archive);
  EXPECT_EQ(player.poll(), "0 2 ~");
  archive.add(4);
  EXPECT_EQ(player.poll(), "0 2 4 6 ~");
}

TEST(LivePlaylistTest, AHoleOlderThanTheSettleWindowIsShownAndThenHeld) {
  Archive archive;
  archive.add_run(0, 8);
  archive.add_run(12, 30);  // 10 missing; the edge is 20 s past it
  Player player(archive);
  EXPECT_EQ(player.poll(), "0 2 4 6 8 _ 12 14 16 18 20 22 24 26 28 30 ~");
  archive.add(10);  // backfilled from a peer, after a player saw the hole
  archive.add(32);
  EXPECT_EQ(player.poll(), "0 2 4 6 8 _ 12 14 16 18 20 22 24 26 28 30 32 ~");
  // A complete range (the same data, closed) lists it: only the live view holds.
  std::vector<SegmentOrHole> all = archive.select({});
  all.pop_back();
  EXPECT_EQ(labels(all).substr(0, 13), "0 2 4 6 8 10 ");
}

TEST(LivePlaylistTest, AStreamThatStartsAgainAfterABreakIsShownAtOnce) {
  Archive archive;
  archive.add_run(0, 8);
  archive.add_run(600, 602);  // ten minutes later, two segments in
  Player player(archive);
  EXPECT_EQ(player.poll(), "0 2 4 6 8 _ 600 602 ~");
  archive.add(606);  // 604 is late
  EXPECT_EQ(player.poll(), "0 2 4 6 8 _ 600 602 ~");
  archive.add(604);
  EXPECT_EQ(player.poll(), "0 2 4 6 8 _ 600 602 604 606 ~");
}

TEST(LivePlaylistTest, AHoleNobodySawIsFilledNormally) {
  Archive archive;
  archive.add_run(0, 8);
  archive.add_run(12, 30);
  archive.add(10);
  Player player(archive);
  EXPECT_EQ(player.poll().substr(0, 13), "0 2 4 6 8 10 ");
}

TEST(LivePlaylistTest, AnIncompleteSegmentAtTheEdgeWaitsForItsCompleteCopy) {
  Archive archive;
  archive.add_run(0, 4);
  archive.add(6, SegmentType::Partial);
  archive.add(8);
  Player player(archive);
  EXPECT_EQ(player.poll(), "0 2 4 ~");
  archive.add(6);  // the racer's complete copy
  EXPECT_EQ(player.poll(), "0 2 4 6 8 ~");
}

TEST(LivePlaylistTest, ASettledIncompleteSegmentIsShownWithTheHoleAfterIt) {
  Archive archive;
  archive.add_run(0, 4);
  archive.add(6, SegmentType::Partial);
  archive.add_run(8, 30);
  Player player(archive);
  EXPECT_EQ(player.poll().substr(0, 14), "0 2 4 6 _ 8 10");
}

TEST(LivePlaylistTest, ACompletePlaylistIsLeftAlone) {
  std::vector<SegmentOrHole> segments;
  auto make = [](int second) {
    auto s = std::make_shared<StoredSegment>();
    s->name.start = hour_start() + second * kSecond;
    s->name.duration = 2 * kSecond;
    s->name.type = SegmentType::Full;
    return SegmentRef(s);
  };
  segments = {make(0), nullptr, make(10)};
  settle_live_edge(segments, kSettle, hour_start() + 12 * kSecond, LiveHistory());
  EXPECT_EQ(segments.size(), 3u);
  EXPECT_FALSE(is_live(segments));
}

TEST(LivePlaylistTest, NoSettleWindowShowsHolesAtOnceButStillHoldsThem) {
  Archive archive;
  archive.add_run(0, 2);
  archive.add(6);
  LiveHistory history;
  auto select = [&](const std::vector<TimeRange>& h) { return archive.select(h); };
  EXPECT_EQ(labels(playlist_segments(select, history, 0, archive.live_now())), "0 2 _ 6 ~");
  archive.add(4);
  EXPECT_EQ(labels(playlist_segments(select, history, 0, archive.live_now())), "0 2 _ 6 ~");
}

TEST(LivePlaylistTest, APlaylistTheSettleWindowEndedEarlySaysSo) {
  // Such a playlist reads differently once the window has passed, with nothing new on
  // disk: the restreamer must not cache it.
  Archive archive;
  archive.add_run(0, 2);
  archive.add(6);
  LiveHistory history;
  auto select = [&](const std::vector<TimeRange>& h) { return archive.select(h); };
  bool settling = false;
  EXPECT_EQ(labels(playlist_segments(select, history, kSettle, archive.live_now(), &settling)), "0 2 ~");
  EXPECT_TRUE(settling);
  EXPECT_EQ(labels(playlist_segments(select, history, kSettle, archive.live_now() + kSettle, &settling)), "0 2 _ 6 ~");
  EXPECT_FALSE(settling);
}

TEST(LivePlaylistTest, AVariantNoLongerArrivingIsShownWhole) {
  // An archive played back long after (or a stream that ended with a hole): nothing
  // is waited for, or the end would be cut off for good.
  Archive archive;
  archive.add_run(0, 2);
  archive.add(6);
  archive.add(8, SegmentType::Partial);
  LiveHistory history;
  auto select = [&](const std::vector<TimeRange>& h) { return archive.select(h); };
  Micros a_day_later = archive.live_now() + kMicrosPerHour * 24;
  EXPECT_EQ(labels(playlist_segments(select, history, kSettle, a_day_later)), "0 2 _ 6 8 ~");
}

TEST(LivePlaylistTest, TheSettleWindowNeverTakesBackWhatWasShown) {
  // Shown whole while the downloader had stalled past the window; when it catches up,
  // the hole is inside the window again, but it was shown: it stays.
  Archive archive;
  archive.add_run(0, 2);
  archive.add(6);
  LiveHistory history;
  auto select = [&](const std::vector<TimeRange>& h) { return archive.select(h); };
  EXPECT_EQ(labels(playlist_segments(select, history, kSettle, archive.live_now() + 20 * kSecond)), "0 2 _ 6 ~");
  archive.add(8);
  EXPECT_EQ(labels(playlist_segments(select, history, kSettle, archive.live_now())), "0 2 _ 6 8 ~");
}

TEST(LiveHistoryTest, HoldsHolesBetweenSegmentsMergedAndBounded) {
  auto make = [](int second) {
    auto s = std::make_shared<StoredSegment>();
    s->name.start = hour_start() + second * kSecond;
    s->name.duration = 2 * kSecond;
    s->name.type = SegmentType::Full;
    return SegmentRef(s);
  };
  LiveHistory history(2);
  history.remember({nullptr, make(0), nullptr, make(10), nullptr});  // leading and trailing holes are not held
  ASSERT_EQ(history.held_holes().size(), 1u);
  EXPECT_EQ(history.held_holes()[0].start, hour_start() + 2 * kSecond);
  EXPECT_EQ(history.held_holes()[0].end, hour_start() + 10 * kSecond);
  EXPECT_EQ(history.shown_until(), hour_start() + 12 * kSecond);
  history.remember({make(6), nullptr, make(14), nullptr});  // overlaps: merged
  ASSERT_EQ(history.held_holes().size(), 1u);
  EXPECT_EQ(history.held_holes()[0].end, hour_start() + 14 * kSecond);
  history.remember({make(20), nullptr, make(30), make(32), nullptr, make(40)});
  ASSERT_EQ(history.held_holes().size(), 2u);  // the oldest forgotten
  EXPECT_EQ(history.held_holes()[0].start, hour_start() + 22 * kSecond);
  history.remember({make(0), nullptr});  // an older range shown later: how far stays
  EXPECT_EQ(history.shown_until(), hour_start() + 42 * kSecond);
  const std::vector<TimeRange>& held = history.held_holes();

  SegmentNameView inside;
  inside.start = hour_start() + 34 * kSecond;
  inside.duration = 6 * kSecond;
  EXPECT_TRUE(lies_in_held_hole(held, inside));
  inside.duration = 6 * kSecond + 20 * kMicrosPerMilli;  // past the hole's end by more than 10 ms
  EXPECT_FALSE(lies_in_held_hole(held, inside));
}

}  // namespace live_playlist_test
}  // namespace wubd::core
