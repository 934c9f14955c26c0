#include "wubd/core/live_window.h"

#include <algorithm>

namespace wubd::core {

Micros LiveWindow::select_from(Micros archive_end) const {
  // The newest hour is rarely full: an hour more than the span reaches back a span
  // from its newest segment, which advance() then trims to.
  Micros earliest = archive_end - span_ - kMicrosPerHour;
  if (shown_.empty()) return earliest;
  return std::max(shown_.back().segment->name.start, earliest);
}

void LiveWindow::advance(const std::vector<SegmentOrHole>& selection) {
  bool changed = false;
  bool hole = false;  // a hole lies between the last segment considered and the next
  for (const SegmentOrHole& item : selection) {
    if (!item) {
      hole = true;
      continue;
    }
    if (!shown_.empty() && item->name.start <= shown_.back().segment->name.start) {
      hole = false;  // shown already (or older): what counts is what follows it
      continue;
    }
    bool jump = hole;
    if (!shown_.empty()) {
      // Where the selection does not hold the newest segment shown (it was deleted or
      // tombstoned since), the times still tell whether the source jumps.
      Micros previous_end = shown_.back().segment->name.end();
      jump = jump || item->name.start > previous_end + kDurationTolerance ||
             item->name.start < previous_end - kDurationTolerance;
    } else {
      jump = false;  // the first segment shown: a leading hole is never shown
    }
    if (jump) ++discontinuities_;
    shown_.push_back({item, next_sequence_++, discontinuities_});
    target_duration_ = std::max(target_duration_, (item->name.duration + kMicrosPerSecond / 2) / kMicrosPerSecond);
    newest_end_ = std::max(newest_end_.value_or(item->name.end()), item->name.end());
    hole = false;
    changed = true;
  }
  if (newest_end_) {
    Micros cutoff = *newest_end_ - span_;
    while (shown_.size() > 1 && shown_.front().segment->name.end() <= cutoff) {
      shown_.pop_front();
      changed = true;
    }
  }
  if (changed) ++version_;
}

LiveWindow::View LiveWindow::view() const {
  View view;
  if (shown_.empty()) return view;
  view.media_sequence = shown_.front().sequence;
  view.discontinuity_sequence = shown_.front().discontinuities;
  view.target_duration = target_duration_;
  view.items.reserve(shown_.size() + 16);
  for (std::size_t i = 0; i < shown_.size(); ++i) {
    if (i > 0 && shown_[i].discontinuities > shown_[i - 1].discontinuities) view.items.push_back(nullptr);
    view.items.push_back(shown_[i].segment);
  }
  return view;
}

std::optional<Micros> LiveWindow::head_start() const {
  if (shown_.empty()) return std::nullopt;
  return shown_.front().segment->name.start;
}

}  // namespace wubd::core
