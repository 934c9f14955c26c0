#include "wubd/core/live_window.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "segment_refs.h"
#include "wubd/core/live_playlist.h"
#include "wubd/core/playlist_writer.h"

namespace wubd::core {
namespace live_window_test {

constexpr Micros kSecond = kMicrosPerSecond;

// 04:59:00: a minute before an hour boundary, so windows cross it.
Micros origin() { return *parse_time("2026-11-21T04:59:00Z"); }

// A growing archive of one variant over several hours: segments of 2 s (unless
// said), named by the second after origin() they start at.
class Archive {
 public:
  void add(int second, SegmentType type = SegmentType::Full, int duration_s = 2) {
    StoredSegment s;
    s.name.start = origin() + second * kSecond;
    s.name.duration = duration_s * kSecond;
    s.name.type = type;
    s.name.hash = kept("h" + std::to_string(second) + (type == SegmentType::Full ? "" : "p"));
    s.hour = kept(format_hour(s.name.start));
    s.file_name = kept(format_segment_name(s.name));
    s.size_bytes = 1000;
    by_hour_[floor_hour(s.name.start)].push_back(s);
  }
  void add_run(int first, int last) {
    for (int second = first; second <= last; second += 2) add(second);
  }
  // The end of the newest hour directory: what the restreamer's archive_end is.
  Micros archive_end() const { return by_hour_.rbegin()->first + kMicrosPerHour; }

  std::vector<SegmentOrHole> select(Micros start, Micros end, const std::vector<TimeRange>& held) {
    std::vector<Micros> hours;
    listings_.clear();
    for (auto& [hour, segments] : by_hour_) {
      hours.push_back(hour);
      auto listing = std::make_shared<HourListing>();
      listing->segments = segments;
      listing->best = best_by_start(listing->segments);
      listings_[hour] = listing;
    }
    HourLookup lookup = [&](Micros hour) -> std::shared_ptr<const HourListing> {
      auto it = listings_.find(hour);
      return it == listings_.end() ? nullptr : it->second;
    };
    return best_segments(lookup, hours_to_scan(hours, start, end), start, end, held);
  }

 private:
  std::map<Micros, std::vector<StoredSegment>> by_hour_;
  std::map<Micros, std::shared_ptr<HourListing>> listings_;
};

// A player reloading the open-ended playlist, as the restreamer makes it: it checks
// RFC 8216 6.2.1/6.2.2's rules on every reload against the one before.
class Player {
 public:
  Player(Archive& archive, Micros span) : archive_(archive), window_(span) {}

  // Reloads; returns the window as "seq:second" labels with `|` for a discontinuity,
  // e.g. "3:6 4:8 | 5:20".
  std::string reload() {
    Micros from = window_.select_from(archive_.archive_end());
    auto select = [&](const std::vector<TimeRange>& held) {
      return archive_.select(from, archive_.archive_end(), held);
    };
    // No settle window here (its own tests are in live_playlist_test): holes show at once.
    window_.advance(playlist_segments(select, history_, 0, 0));
    LiveWindow::View view = window_.view();
    check(view);
    return labels(view);
  }

  int reloads_checked() const { return reloads_; }

 private:
  struct Seen {
    std::int64_t sequence;
    std::int64_t discontinuity;  // the segment's discontinuity sequence number
  };

  void check(const LiveWindow::View& view) {
    std::map<Micros, Seen> now;
    std::int64_t sequence = view.media_sequence;
    std::int64_t discontinuity = view.discontinuity_sequence;
    ASSERT_FALSE(view.items.empty());
    ASSERT_NE(view.items.front(), nullptr) << "a leading DISCONTINUITY";
    ASSERT_NE(view.items.back(), nullptr) << "a trailing DISCONTINUITY";
    for (const SegmentOrHole& item : view.items) {
      if (!item) {
        ++discontinuity;
        continue;
      }
      now[item->name.start] = {sequence++, discontinuity};
    }
    if (!last_.empty()) {
      // Every segment still listed keeps its media and discontinuity sequence numbers.
      for (const auto& [start, seen] : now) {
        auto before = last_.find(start);
        if (before == last_.end()) continue;
        EXPECT_EQ(seen.sequence, before->second.sequence) << "segment at " << format_time(start) << " renumbered";
        EXPECT_EQ(seen.discontinuity, before->second.discontinuity)
            << "segment at " << format_time(start) << " moved to another discontinuity";
      }
      // MEDIA-SEQUENCE rose by the segments that left the head; DISCONTINUITY-SEQUENCE
      // is the first segment's discontinuity number as it was before, so it rose by
      // the tags that left with them.
      std::int64_t left = 0;
      for (const auto& [start, seen] : last_) {
        if (now.count(start)) break;
        ++left;
      }
      EXPECT_EQ(view.media_sequence, last_sequence_ + left);
      if (auto first = last_.find(now.begin()->first); first != last_.end()) {
        EXPECT_EQ(view.discontinuity_sequence, first->second.discontinuity);
      } else {
        EXPECT_GE(view.discontinuity_sequence, last_discontinuity_);  // a wholly new window
      }
      // What was listed is still listed (from the head on), in the same order: a
      // reload is the last one minus its head plus segments appended.
      auto it = last_.begin();
      for (std::int64_t i = 0; i < left; ++i) ++it;
      for (auto mine = now.begin(); it != last_.end(); ++it, ++mine) {
        ASSERT_NE(mine, now.end()) << "a segment listed before is gone from the middle";
        EXPECT_EQ(mine->first, it->first);
      }
    }
    last_ = now;
    last_sequence_ = view.media_sequence;
    last_discontinuity_ = view.discontinuity_sequence;
    ++reloads_;
  }

  static std::string labels(const LiveWindow::View& view) {
    std::string out;
    std::int64_t sequence = view.media_sequence;
    for (const SegmentOrHole& item : view.items) {
      if (!out.empty()) out += ' ';
      if (!item) {
        out += '|';
        continue;
      }
      out += std::to_string(sequence++) + ":" + std::to_string((item->name.start - origin()) / kSecond);
    }
    return out;
  }

  Archive& archive_;
  LiveWindow window_;
  LiveHistory history_;
  std::map<Micros, Seen> last_;
  std::int64_t last_sequence_ = 0;
  std::int64_t last_discontinuity_ = 0;
  int reloads_ = 0;
};

TEST(LiveWindowTest, TheWindowSlidesASegmentAtATimeAndKeepsEveryNumber) {
  Archive archive;
  archive.add_run(0, 8);  // 5 segments, 10 s: the window holds 10 s
  Player player(archive, 10 * kSecond);
  EXPECT_EQ(player.reload(), "0:0 1:2 2:4 3:6 4:8");
  archive.add(10);
  EXPECT_EQ(player.reload(), "1:2 2:4 3:6 4:8 5:10");
  archive.add(12);
  archive.add(14);
  EXPECT_EQ(player.reload(), "3:6 4:8 5:10 6:12 7:14");
  EXPECT_EQ(player.reload(), "3:6 4:8 5:10 6:12 7:14");  // nothing new: the same
}

TEST(LiveWindowTest, CrossingAnHourBoundaryMovesTheWindowBySegmentsNotByAnHour) {
  // 04:59:00 .. 05:00:58: the newest hour begins at second 60. Before this, a new
  // hour took the playlist from its whole span to one segment, numbered 0 again.
  Archive archive;
  archive.add_run(0, 58);
  Player player(archive, 60 * kSecond);
  std::string before = player.reload();
  EXPECT_EQ(before.substr(0, 7), "0:0 1:2");
  for (int second = 60; second <= 120; second += 2) {
    archive.add(second);
    std::string now = player.reload();
    // One segment in, one out: still 30 segments, numbered on.
    int first = (second - 58) / 2;
    EXPECT_EQ(now.substr(0, now.find(' ')), std::to_string(first) + ":" + std::to_string(second - 58)) << now;
  }
  EXPECT_EQ(player.reloads_checked(), 32);
}

TEST(LiveWindowTest, HolesBecomeDiscontinuitiesCountedWhenTheyLeave) {
  Archive archive;
  archive.add_run(0, 4);
  archive.add_run(10, 12);  // a hole at 6..10
  Player player(archive, 20 * kSecond);
  EXPECT_EQ(player.reload(), "0:0 1:2 2:4 | 3:10 4:12");
  archive.add_run(14, 24);
  // Newest end 26: the window keeps what ends after 6, so 0..4 leave, and with them the
  // tag before 10 (DISCONTINUITY-SEQUENCE 1, no tag shown).
  EXPECT_EQ(player.reload(), "3:10 4:12 5:14 6:16 7:18 8:20 9:22 10:24");
}

TEST(LiveWindowTest, TheDiscontinuitySequenceIsWrittenWhenATagHasLeft) {
  Archive archive;
  archive.add_run(0, 4);
  archive.add_run(10, 30);
  LiveWindow window(20 * kSecond);
  LiveHistory history;
  auto reload = [&] {
    Micros from = window.select_from(archive.archive_end());
    auto select = [&](const std::vector<TimeRange>& held) { return archive.select(from, archive.archive_end(), held); };
    window.advance(playlist_segments(select, history, 0, 0));
    LiveWindow::View view = window.view();
    LivePlaylistTags tags{view.media_sequence, view.discontinuity_sequence, false, view.target_duration};
    return write_media_playlist(view.items, "/s/", tags);
  };
  std::string text = reload();
  EXPECT_NE(text.find("#EXT-X-MEDIA-SEQUENCE:4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#EXT-X-DISCONTINUITY-SEQUENCE:1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("#EXT-X-DISCONTINUITY\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("#EXT-X-ENDLIST"), std::string::npos) << text;
}

TEST(LiveWindowTest, AHoleFilledAfterItWasShownStaysAHole) {
  Archive archive;
  archive.add_run(0, 4);
  archive.add_run(8, 10);
  Player player(archive, 60 * kSecond);
  EXPECT_EQ(player.reload(), "0:0 1:2 2:4 | 3:8 4:10");
  archive.add(6);  // backfilled from a peer
  archive.add(12);
  EXPECT_EQ(player.reload(), "0:0 1:2 2:4 | 3:8 4:10 5:12");
}

TEST(LiveWindowTest, AVariantBackAfterALongBreakContinuesTheNumbersAfterADiscontinuity) {
  Archive archive;
  archive.add_run(0, 8);
  Player player(archive, 10 * kSecond);
  EXPECT_EQ(player.reload(), "0:0 1:2 2:4 3:6 4:8");
  archive.add_run(3600, 3604);  // an hour later
  EXPECT_EQ(player.reload(), "5:3600 6:3602 7:3604");
}

TEST(LiveWindowTest, APartialSegmentIsFollowedByADiscontinuity) {
  Archive archive;
  archive.add_run(0, 2);
  archive.add(4, SegmentType::Partial);
  archive.add_run(6, 8);
  Player player(archive, 60 * kSecond);
  EXPECT_EQ(player.reload(), "0:0 1:2 2:4 | 3:6 4:8");
}

TEST(LiveWindowTest, ATargetDurationNeverShrinks) {
  Archive archive;
  archive.add(0, SegmentType::Full, 6);
  archive.add_run(6, 20);
  LiveWindow window(10 * kSecond);
  LiveHistory history;
  Micros from = window.select_from(archive.archive_end());
  auto select = [&](const std::vector<TimeRange>& held) { return archive.select(from, archive.archive_end(), held); };
  window.advance(playlist_segments(select, history, 0, 0));
  LiveWindow::View view = window.view();
  EXPECT_EQ(view.items.front()->name.start, origin() + 12 * kSecond);  // the 6 s one has left
  EXPECT_EQ(view.target_duration, 6);
}

TEST(LiveWindowTest, TheFirstSelectionIsTheWholeSpanAndLaterOnesStartAtTheNewestShown) {
  Archive archive;
  archive.add_run(0, 8);
  LiveWindow window(6 * kSecond);
  EXPECT_EQ(window.select_from(archive.archive_end()), archive.archive_end() - 6 * kSecond - kMicrosPerHour);
  EXPECT_FALSE(window.head_start());
  std::vector<SegmentOrHole> all = archive.select(origin(), archive.archive_end(), {});
  window.advance(all);
  EXPECT_EQ(window.select_from(archive.archive_end()), origin() + 8 * kSecond);
  EXPECT_EQ(*window.head_start(), origin() + 4 * kSecond);
  std::uint64_t version = window.version();
  window.advance(archive.select(origin() + 8 * kSecond, archive.archive_end(), {}));
  EXPECT_EQ(window.version(), version);  // nothing new
}

}  // namespace live_window_test
}  // namespace wubd::core
