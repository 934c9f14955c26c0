#pragma once
// Paths below the base directory as the store's caches key them: "stream/variant/hour".

#include <string>

namespace wubd::store {

// `a/b`, or `b` where `a` is the base itself ("").
inline std::string join_relative(const std::string& a, const std::string& b) { return a.empty() ? b : a + "/" + b; }

}  // namespace wubd::store
