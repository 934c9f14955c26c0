#pragma once

#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "wubd/core/best_segments.h"

namespace wubd::core {

// A SegmentRef to a segment the test owns on its stack, owning nothing (the
// aliasing constructor with an empty owner): listings in tests outlive their refs.
inline SegmentRef borrowed(const StoredSegment& segment) { return SegmentRef(SegmentRef(), &segment); }

// A StoredSegment's strings are views (into its listing's text, in the store); a
// test's segments view strings kept here instead, for the whole test run.
inline std::string_view kept(std::string text) {
  static std::deque<std::string> texts;  // a deque never moves what it holds
  return texts.emplace_back(std::move(text));
}

}  // namespace wubd::core
