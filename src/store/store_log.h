#pragma once
// The logger of the store's lines, shared by the module's files (one definition, so that
// they can be compiled together as one unity translation unit).

#include <spdlog/logger.h>

#include "wubd/log/log.h"

namespace wubd::store {

inline spdlog::logger& log() { return log::logger(log::Module::Store); }

}  // namespace wubd::store
