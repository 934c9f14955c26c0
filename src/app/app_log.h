#pragma once
// The logger of the daemon's own lines (start, stop, console), shared by the module's files (one definition, so that
// they can be compiled together as one unity translation unit).

#include <spdlog/logger.h>

#include "wubd/log/log.h"

namespace wubd::app {

inline spdlog::logger& log() { return log::logger(log::Module::Main); }

}  // namespace wubd::app
