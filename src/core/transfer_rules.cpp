#include "wubd/core/transfer_rules.h"

#include <algorithm>

namespace wubd::core {

std::string_view to_string(TransferState state) {
  switch (state) {
    case TransferState::Initializing:
      return "Initializing";
    case TransferState::InProgress:
      return "InProgress";
    case TransferState::Completed:
      return "Completed";
    case TransferState::Errored:
      return "Errored";
    case TransferState::Cancelled:
      return "Cancelled";
  }
  return "?";
}

bool is_final(TransferState state) {
  return state == TransferState::Completed || state == TransferState::Errored || state == TransferState::Cancelled;
}

TransferState next_state(TransferState current, TransferEvent event) {
  if (is_final(current)) return current;
  switch (event) {
    case TransferEvent::Started:
      return TransferState::InProgress;
    case TransferEvent::Succeeded:
      return TransferState::Completed;
    case TransferEvent::Failed:
      return TransferState::Errored;
    case TransferEvent::Cancelled:
      return TransferState::Cancelled;
  }
  return current;
}

StartDecision may_start(const SourceState& state, const SourceLimits& limits, Micros now) {
  StartDecision decision;
  if (state.in_flight >= std::max(1, limits.max_concurrent)) return decision;  // a finish will retry
  if (state.last_start && limits.min_delay > 0 && now < *state.last_start + limits.min_delay) {
    decision.wait = *state.last_start + limits.min_delay - now;
    return decision;
  }
  decision.start = true;
  return decision;
}

}  // namespace wubd::core
