#pragma once

#include <memory>

#include "wubd/core/best_segments.h"

namespace wubd::core {

// A SegmentRef to a segment the test owns on its stack, owning nothing (the
// aliasing constructor with an empty owner): listings in tests outlive their refs.
inline SegmentRef borrowed(const StoredSegment& segment) { return SegmentRef(SegmentRef(), &segment); }

}  // namespace wubd::core
