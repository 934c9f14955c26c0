#include "wubd/restreamer/job_queue.h"

#include <algorithm>

namespace wubd::restreamer {

JobQueue::JobQueue(std::size_t limit, std::size_t max_waiting) : state_(std::make_shared<State>()) {
  state_->limit = std::max<std::size_t>(limit, 1);
  state_->max_waiting = max_waiting;
}

std::shared_ptr<void> JobQueue::take_slot(const std::shared_ptr<State>& state) {
  ++state->running;
  std::weak_ptr<State> weak = state;
  // The slot owns nothing; its deleter frees the place and starts the next in line.
  return std::shared_ptr<void>(nullptr, [weak](void*) {
    auto alive = weak.lock();
    if (!alive) return;
    --alive->running;
    if (alive->waiting.empty() || alive->running >= alive->limit) return;
    Start next = std::move(alive->waiting.front().second);
    alive->waiting.pop_front();
    next(take_slot(alive));
  });
}

std::optional<std::shared_ptr<void>> JobQueue::enqueue(Start start) {
  std::weak_ptr<State> weak = state_;
  if (state_->running < state_->limit && state_->waiting.empty()) {
    start(take_slot(state_));
    return std::shared_ptr<void>();
  }
  if (state_->waiting.size() >= state_->max_waiting) return std::nullopt;
  std::uint64_t id = state_->next_id++;
  state_->waiting.emplace_back(id, std::move(start));
  return std::shared_ptr<void>(nullptr, [weak, id](void*) {
    auto alive = weak.lock();
    if (!alive) return;
    auto& waiting = alive->waiting;
    waiting.erase(std::remove_if(waiting.begin(), waiting.end(), [id](const auto& entry) { return entry.first == id; }),
                  waiting.end());
  });
}

}  // namespace wubd::restreamer
