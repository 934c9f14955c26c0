#include "wubd/core/transfer_rules.h"

#include <gtest/gtest.h>

namespace wubd::core {
namespace transfer_rules_test {

using S = TransferState;
using E = TransferEvent;

TEST(TransferRules, StateMachine) {
  struct Case {
    S from;
    E event;
    S to;
  };
  const Case cases[] = {
      {S::Initializing, E::Started, S::InProgress},
      {S::InProgress, E::Succeeded, S::Completed},
      {S::InProgress, E::Failed, S::Errored},
      {S::Initializing, E::Failed, S::Errored},  // failed before it ran: still terminal
      {S::Initializing, E::Cancelled, S::Cancelled},
      {S::InProgress, E::Cancelled, S::Cancelled},
      {S::InProgress, E::Started, S::InProgress},
      // The cancel race: whatever lands after an operator's cancel leaves it Cancelled.
      {S::Cancelled, E::Succeeded, S::Cancelled},
      {S::Cancelled, E::Failed, S::Cancelled},
      {S::Cancelled, E::Started, S::Cancelled},
      // Finished records are final too.
      {S::Completed, E::Cancelled, S::Completed},
      {S::Completed, E::Failed, S::Completed},
      {S::Errored, E::Succeeded, S::Errored},
      {S::Errored, E::Cancelled, S::Errored},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(next_state(c.from, c.event), c.to) << to_string(c.from) << " + " << int(c.event);
  }
  EXPECT_FALSE(is_final(S::Initializing));
  EXPECT_FALSE(is_final(S::InProgress));
  EXPECT_TRUE(is_final(S::Cancelled));
}

TEST(TransferRules, SourceLimits) {
  const Micros now = 100 * kMicrosPerSecond;
  struct Case {
    const char* what;
    SourceState state;
    SourceLimits limits;
    bool start;
    std::optional<Micros> wait;
  };
  const Case cases[] = {
      {"idle source", {0, std::nullopt}, {1, 0}, true, std::nullopt},
      {"at the limit", {1, now - 10 * kMicrosPerSecond}, {1, 0}, false, std::nullopt},
      {"below a limit of 4", {3, now}, {4, 0}, true, std::nullopt},
      {"at a limit of 4", {4, now}, {4, 0}, false, std::nullopt},
      {"delay not passed", {0, now - 300'000}, {1, kMicrosPerSecond}, false, 700'000},
      {"delay passed", {0, now - kMicrosPerSecond}, {1, kMicrosPerSecond}, true, std::nullopt},
      {"limit 0 means 1", {0, std::nullopt}, {0, 0}, true, std::nullopt},
  };
  for (const Case& c : cases) {
    StartDecision d = may_start(c.state, c.limits, now);
    EXPECT_EQ(d.start, c.start) << c.what;
    EXPECT_EQ(d.wait, c.wait) << c.what;
  }
}

TEST(TransferRules, RingIsBounded) {
  BoundedRing<int> ring(3);
  for (int i = 0; i < 10; ++i) ring.push(i);
  EXPECT_EQ(ring.items(), (std::deque<int>{7, 8, 9}));
  BoundedRing<int> none(0);
  none.push(1);
  EXPECT_TRUE(none.items().empty());
}

}  // namespace transfer_rules_test
}  // namespace wubd::core
