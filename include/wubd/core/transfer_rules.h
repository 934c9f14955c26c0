#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string_view>
#include <utility>

#include "wubd/core/time.h"

// The transfer engine's rules: the state machine of a transfer record, per-source
// limits, and the bounded ring of finished records. Pure: the engine carries them out.
namespace wubd::core {

// Initializing (queued) → InProgress (running) → Completed | Errored. Cancelled, set by
// an operator, is final as well.
enum class TransferState { Initializing, InProgress, Completed, Errored, Cancelled };
enum class TransferEvent { Started, Succeeded, Failed, Cancelled };

std::string_view to_string(TransferState state);
bool is_final(TransferState state);

// The state after an event. Final states never change: a completion or an error that
// lands after an operator's cancel leaves the record Cancelled (the seed's race fix),
// and a late cancel does not rewrite a finished record. Starting twice is a no-op.
TransferState next_state(TransferState current, TransferEvent event);

// Per source (an origin host or a peer).
struct SourceLimits {
  int max_concurrent = 1;
  Micros min_delay = 0;  // between the starts of two downloads from the source
};

struct SourceState {
  int in_flight = 0;
  std::optional<Micros> last_start;
};

struct StartDecision {
  bool start = false;
  std::optional<Micros> wait;  // not yet because of the delay: try again after this
};

// Whether the next queued transfer of a source may start now.
StartDecision may_start(const SourceState& state, const SourceLimits& limits, Micros now);

// The last `capacity` items pushed, oldest first.
template <typename T>
class BoundedRing {
 public:
  explicit BoundedRing(std::size_t capacity) : capacity_(capacity) {}
  void push(T item) {
    if (capacity_ == 0) return;
    if (items_.size() == capacity_) items_.pop_front();
    items_.push_back(std::move(item));
  }
  const std::deque<T>& items() const { return items_; }
  std::size_t capacity() const { return capacity_; }

 private:
  std::size_t capacity_;
  std::deque<T> items_;
};

}  // namespace wubd::core
