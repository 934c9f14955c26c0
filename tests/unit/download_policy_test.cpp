#include "wubd/core/download_policy.h"

#include <gtest/gtest.h>

namespace wubd::core {
namespace download_policy_test {

constexpr Micros kSecond = kMicrosPerSecond;
constexpr Micros kMs = kMicrosPerMilli;

TEST(DownloadPolicy, JitterStaysWithinTenPercent) {
  EXPECT_EQ(jittered(2 * kSecond, 0.1, 0.5), 2 * kSecond);
  EXPECT_EQ(jittered(2 * kSecond, 0.1, 0.0), 1'800'000);
  EXPECT_NEAR(double(jittered(2 * kSecond, 0.1, 0.999999)), 2'200'000, 1);
  EXPECT_EQ(jittered(0, 0.1, 0.9), 0);
}

TEST(DownloadPolicy, WaitsAreNeverNegative) {
  struct Case {
    std::optional<Micros> last_start;
    Micros now, interval, wait;
  };
  const Case cases[] = {
      {std::nullopt, 100, 5 * kSecond, 0},         // first fetch: at once
      {0, 1 * kSecond, 5 * kSecond, 4 * kSecond},  // spaced from the last start
      {0, 5 * kSecond, 5 * kSecond, 0},
      {0, 60 * kSecond, 5 * kSecond, 0},  // the last fetch took longer than the interval
  };
  for (const Case& c : cases) EXPECT_EQ(wait_before_next(c.now, c.last_start, c.interval), c.wait);
}

TEST(DownloadPolicy, MasterFetchWhenNeeded) {
  DownloadTimings t;
  const Micros now = 1000 * kSecond;
  auto variant = [&](bool has_worker, bool requested, std::optional<Micros> fetched_at) {
    return VariantWorkers{"source", has_worker, requested, fetched_at};
  };
  struct Case {
    const char* what;
    ManagerState state;
    std::optional<Micros> wait;
  };
  const Case cases[] = {
      {"start", ManagerState{}, 0},
      {"in flight", ManagerState{true, now - kSecond, true, {}, false}, std::nullopt},
      {"healthy: until the URL ages",
       ManagerState{false, now - 10 * kSecond, true, {variant(true, false, now - 10 * kSecond)}, true},
       t.max_url_age - 10 * kSecond},
      {"worker asked, spaced from last fetch",
       ManagerState{false, now - 2 * kSecond, true, {variant(true, true, now - 2 * kSecond)}, true}, 3 * kSecond},
      {"worker asked long after last fetch",
       ManagerState{false, now - 60 * kSecond, true, {variant(true, true, now - 60 * kSecond)}, true}, 0},
      {"variant has no worker",
       ManagerState{false, now - 60 * kSecond, true, {variant(false, false, std::nullopt)}, true}, 0},
      {"URL too old", ManagerState{false, now - 60 * kSecond, true, {variant(true, false, now - t.max_url_age)}, true},
       0},
      // An offline channel is asked gently: every offline_interval (20 s), not every 5 s.
      {"not live: asked again at the offline interval", ManagerState{false, now - kSecond, false, {}, true},
       t.offline_interval - kSecond},
  };
  for (const Case& c : cases) EXPECT_EQ(master_fetch_wait(c.state, now, t, 0.5), c.wait) << c.what;
}

TEST(DownloadPolicy, VariantsToStart) {
  DownloadTimings t;
  const Micros now = 1000 * kSecond;
  ManagerState state;
  state.variants = {{"source", true, false, now - kSecond},
                    {"480p", true, true, now - kSecond},
                    {"360p", false, false, std::nullopt},
                    {"160p", true, false, now - t.max_url_age - 1}};
  std::vector<std::string> available = {"source", "480p", "360p", "160p", "audio_only"};
  EXPECT_EQ(variants_to_start(state, available, {}, now, t),
            (std::vector<std::string>{"480p", "360p", "160p", "audio_only"}));
  EXPECT_EQ(variants_to_start(state, available, {"source", "480p", "720p"}, now, t),
            (std::vector<std::string>{"480p"}));
}

TEST(DownloadPolicy, WorkingWorkerRetiresOlderOnesOfItsVariant) {
  std::vector<WorkerInfo> workers = {{1, "source"}, {2, "480p"}, {3, "source"}, {4, "source"}, {5, "480p"}};
  EXPECT_EQ(workers_to_retire(workers, 3), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(workers_to_retire(workers, 4), (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(workers_to_retire(workers, 5), (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(workers_to_retire(workers, 1), (std::vector<std::uint64_t>{}));
  EXPECT_EQ(workers_to_retire(workers, 99), (std::vector<std::uint64_t>{}));
}

TEST(DownloadPolicy, WorkerOutcomes) {
  struct Case {
    bool had_success;
    PlaylistOutcome outcome;
    bool keep_polling, report_working, request_replacement;
  };
  const Case cases[] = {
      {false, PlaylistOutcome::Ok, true, true, false},      {true, PlaylistOutcome::Ok, true, false, false},
      {false, PlaylistOutcome::EndList, false, true, true}, {true, PlaylistOutcome::EndList, false, false, true},
      {true, PlaylistOutcome::Gone, false, false, true},    {false, PlaylistOutcome::Gone, false, false, true},
      {false, PlaylistOutcome::Failed, false, false, true},  // first fetch failed: stop
      {true, PlaylistOutcome::Failed, true, false, false},   // later: keep trying
  };
  for (const Case& c : cases) {
    WorkerDecision d = on_playlist_outcome({c.had_success, c.had_success}, c.outcome, true);
    EXPECT_EQ(d.keep_polling, c.keep_polling) << int(c.outcome) << c.had_success;
    EXPECT_EQ(d.report_working, c.report_working) << int(c.outcome) << c.had_success;
    EXPECT_EQ(d.request_replacement, c.request_replacement) << int(c.outcome) << c.had_success;
  }
}

TEST(DownloadPolicy, AWorkerWorksFromItsFirstContentNotItsFirstFetch) {
  // A fresh URL opening with a pre-roll: fetched fine, but only ads so far.
  EXPECT_FALSE(on_playlist_outcome({false, false}, PlaylistOutcome::Ok, false).report_working);
  EXPECT_FALSE(on_playlist_outcome({true, false}, PlaylistOutcome::Ok, false).report_working);
  EXPECT_TRUE(on_playlist_outcome({true, false}, PlaylistOutcome::Ok, true).report_working) << "the stream at last";
  EXPECT_FALSE(on_playlist_outcome({true, true}, PlaylistOutcome::Ok, true).report_working) << "once";
}

TEST(DownloadPolicy, AdsOnTheirOwnEvidence) {
  HlsSegment live, untitled, amazon, marked;
  live.title = "live";
  amazon.title = "Amazon|1234";
  marked.ad = true;
  EXPECT_FALSE(is_ad(live, true));
  EXPECT_FALSE(is_ad(untitled, true));
  EXPECT_TRUE(is_ad(amazon, true));
  EXPECT_TRUE(is_ad(marked, false));
  HlsSegment other;
  other.title = "chapter 3";  // any other origin may title its segments
  EXPECT_TRUE(is_ad(other, true));
  EXPECT_FALSE(is_ad(other, false));
}

TEST(DownloadPolicy, DateSkews) {
  MediaPlaylist playlist;
  auto add = [&](std::optional<Micros> pdt, bool discontinuity = false) {
    HlsSegment s;
    s.duration = 2 * kSecond;
    s.program_date_time = pdt;
    s.discontinuity = discontinuity;
    playlist.segments.push_back(s);
  };
  const Micros t0 = 1000 * kSecond;
  add(t0);
  add(t0 + 2 * kSecond);                        // on time
  add(t0 + 4 * kSecond + 400 * kMs);            // 400 ms late: a jump
  add(std::nullopt);                            // no date of its own
  add(t0 + 8 * kSecond + 400 * kMs + 5 * kMs);  // 5 ms: within tolerance
  add(t0 + 100 * kSecond, true);                // after a DISCONTINUITY: not compared
  add(t0 + 90 * kSecond);                       // next to an ad below: not compared
  std::vector<bool> ads(playlist.segments.size(), false);
  ads[5] = true;
  EXPECT_EQ(date_skews(playlist, ads), (std::vector<Micros>{0, 0, 400 * kMs, 0, 5 * kMs, 0, 0}));
}

TEST(DownloadPolicy, SegmentTimesCarryForward) {
  MediaPlaylist playlist;
  auto segment = [](Micros duration, std::optional<Micros> pdt) {
    HlsSegment s;
    s.duration = duration;
    s.program_date_time = pdt;
    return s;
  };
  playlist.segments = {segment(2 * kSecond, std::nullopt),  segment(2 * kSecond, 100 * kSecond),
                       segment(2'002'000, std::nullopt),    segment(1'500'000, std::nullopt),
                       segment(2 * kSecond, 200 * kSecond), segment(2 * kSecond, std::nullopt)};
  auto starts = segment_start_times(playlist);
  std::vector<std::optional<Micros>> expected = {std::nullopt, 100 * kSecond, 102 * kSecond,
                                                 104'002'000,  200 * kSecond, 202 * kSecond};
  EXPECT_EQ(starts, expected);
}

TEST(DownloadPolicy, GetterRacesRetriesAndGivesUp) {
  DownloadTimings t;
  const Micros now = 500 * kSecond;
  struct Case {
    const char* what;
    GetterState state;
    AttemptEvent event;
    bool start, cancel_others, done, gave_up;
    std::optional<Micros> retry_in;
  };
  const Case cases[] = {
      {"soft timeout races a second attempt",
       {now, 1, false},
       AttemptEvent::SoftTimeout,
       true,
       false,
       false,
       false,
       {}},
      {"no third racer", {now, 2, false}, AttemptEvent::SoftTimeout, false, false, false, false, {}},
      {"no racer once gone", {now, 1, true}, AttemptEvent::SoftTimeout, false, false, false, false, {}},
      {"first to complete wins, loser cancelled",
       {now, 1, false},
       AttemptEvent::Completed,
       false,
       true,
       true,
       false,
       {}},
      {"sole attempt completes", {now, 0, false}, AttemptEvent::Completed, false, false, true, false, {}},
      {"failure while a racer runs: wait for it",
       {now, 1, false},
       AttemptEvent::Failed,
       false,
       false,
       false,
       false,
       {}},
      {"failure while the other attempt hangs past its soft timeout: race a new one ~2 s later",
       {now, 1, false, 1},
       AttemptEvent::Failed,
       false,
       false,
       false,
       false,
       2 * kSecond},
      {"failure after a 404 while another hangs: nothing new",
       {now, 1, true, 1},
       AttemptEvent::Failed,
       false,
       false,
       false,
       false,
       {}},
      {"404 while another hangs: let it finish",
       {now, 1, false, 1},
       AttemptEvent::Gone,
       false,
       false,
       false,
       false,
       {}},
      {"too old, another hangs: wait for it, never a new one",
       {now - t.getter_give_up_after, 1, false, 1},
       AttemptEvent::Failed,
       false,
       false,
       false,
       false,
       {}},
      {"failure, none left: retry ~2 s",
       {now, 0, false},
       AttemptEvent::Failed,
       false,
       false,
       false,
       false,
       2 * kSecond},
      {"403/404: give up", {now, 0, false}, AttemptEvent::Gone, false, false, true, true, {}},
      {"403/404 while a racer runs: let it finish",
       {now, 1, false},
       AttemptEvent::Gone,
       false,
       false,
       false,
       false,
       {}},
      {"racer fails after a 404", {now, 0, true}, AttemptEvent::Failed, false, false, true, true, {}},
      {"too old: give up",
       {now - t.getter_give_up_after, 0, false},
       AttemptEvent::Failed,
       false,
       false,
       true,
       true,
       {}},
  };
  for (const Case& c : cases) {
    GetterAction a = on_attempt_event(c.state, c.event, now, t, 0.5);
    EXPECT_EQ(a.start_attempt, c.start) << c.what;
    EXPECT_EQ(a.cancel_others, c.cancel_others) << c.what;
    EXPECT_EQ(a.done, c.done) << c.what;
    EXPECT_EQ(a.gave_up, c.gave_up) << c.what;
    EXPECT_EQ(a.retry_in, c.retry_in) << c.what;
  }
}

}  // namespace download_policy_test
}  // namespace wubd::core
