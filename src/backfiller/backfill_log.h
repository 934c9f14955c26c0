#pragma once
// The logger of the backfiller's lines, shared by the module's files (one definition, so that
// they can be compiled together as one unity translation unit).

#include <spdlog/logger.h>

#include "wubd/log/log.h"

namespace wubd::backfiller {

inline spdlog::logger& log() { return log::logger(log::Module::Backfill); }

}  // namespace wubd::backfiller
