#include "wubd/store/range_holds.h"

#include "wubd/io/clock.h"

namespace wubd::store {

std::uint64_t RangeHolds::lock(core::HeldRange held, std::string note) {
  std::uint64_t id = state_->next_id++;
  state_->locks[id] = Lock{id, std::move(held), std::move(note)};
  return id;
}

bool RangeHolds::unlock(std::uint64_t id) { return state_->locks.erase(id) > 0; }

std::vector<RangeHolds::Lock> RangeHolds::locks() const {
  std::vector<Lock> out;
  for (const auto& [id, lock] : state_->locks) out.push_back(lock);
  return out;
}

std::shared_ptr<void> RangeHolds::hold_while_cutting(core::HeldRange held) {
  std::uint64_t id = state_->next_id++;
  state_->cuts[id] = std::move(held);
  std::weak_ptr<State> state = state_;
  // The token owns nothing; its deleter gives the range back.
  return std::shared_ptr<void>(nullptr, [state, id](void*) {
    if (auto alive = state.lock()) alive->cuts.erase(id);
  });
}

void RangeHolds::hold_live_window(const std::string& key, core::HeldRange held, core::Micros until) {
  state_->live_windows[key] = {std::move(held), until};
}

std::vector<core::HeldRange> RangeHolds::held() const {
  std::vector<core::HeldRange> out;
  for (const auto& [id, lock] : state_->locks) out.push_back(lock.held);
  for (const auto& [id, range] : state_->cuts) out.push_back(range);
  core::Micros now = io::wall_clock_now();
  for (const auto& [key, hold] : state_->live_windows) {
    if (hold.second > now) out.push_back(hold.first);
  }
  return out;
}

}  // namespace wubd::store
