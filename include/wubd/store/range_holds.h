#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "wubd/core/retention_plan.h"

// Ranges of the archive that retention must not delete from: an operator's locks
// (--keep-range at start, the console's `lock` while running), the cuts in progress
// (held while their bodies live), and what live windows have shown lately (players
// may still fetch a segment that left the window: RFC 8216 6.2.2). Loop only.
namespace wubd::store {

class RangeHolds {
 public:
  struct Lock {
    std::uint64_t id = 0;
    core::HeldRange held;
    std::string note;  // who or why, as the operator said it
  };

  // An operator's lock, until unlock(id).
  std::uint64_t lock(core::HeldRange held, std::string note);
  bool unlock(std::uint64_t id);
  std::vector<Lock> locks() const;

  // A cut's hold: the range is held while the returned token lives.
  std::shared_ptr<void> hold_while_cutting(core::HeldRange held);
  std::size_t cuts_holding() const { return state_->cuts.size(); }

  // A live window's hold, under `key` ("stream/variant"): replaces that key's last
  // one, and lapses at `until` (wall clock, µs) unless renewed.
  void hold_live_window(const std::string& key, core::HeldRange held, core::Micros until);

  // Everything held now: the locks, the cuts' ranges and the live windows' that
  // have not lapsed.
  std::vector<core::HeldRange> held() const;

 private:
  // Shared with the cuts' tokens, which may outlive this registry (a body freed
  // after the daemon's parts at shutdown).
  struct State {
    std::uint64_t next_id = 1;
    std::map<std::uint64_t, Lock> locks;
    std::map<std::uint64_t, core::HeldRange> cuts;
    std::map<std::string, std::pair<core::HeldRange, core::Micros>> live_windows;  // key → (range, until)
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace wubd::store
