#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

namespace wubd::restreamer {

// Bounds the media work running at once (frames, thumbnails): `limit` jobs at a time,
// up to `max_waiting` more waiting their turn in order (an editor's filmstrip asks for
// a dozen frames at once), and beyond that the caller refuses (503). Loop only. The
// state is shared with the slots and tickets, so one freed after the queue is harmless.
class JobQueue {
 public:
  JobQueue(std::size_t limit, std::size_t max_waiting);

  using Start = std::function<void(std::shared_ptr<void> slot)>;
  // Calls `start` with a slot now or when one frees (never after the returned ticket
  // is dropped). nullopt when `max_waiting` already wait.
  std::optional<std::shared_ptr<void>> enqueue(Start start);

  std::size_t running() const { return state_->running; }
  std::size_t waiting() const { return state_->waiting.size(); }
  std::size_t limit() const { return state_->limit; }

 private:
  struct State {
    std::size_t limit = 1;
    std::size_t max_waiting = 0;
    std::size_t running = 0;
    std::uint64_t next_id = 1;
    std::deque<std::pair<std::uint64_t, Start>> waiting;
  };
  static std::shared_ptr<void> take_slot(const std::shared_ptr<State>& state);
  std::shared_ptr<State> state_;
};

}  // namespace wubd::restreamer
