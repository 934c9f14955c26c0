#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "wubd/core/metrics.h"
#include "wubd/core/result.h"

// Process-wide logging: one spdlog logger per module (`http`, `store`, `restreamer`,
// …), all writing one line per event to stderr, as text or JSON.
namespace wubd::app {

struct LogOptions {
  std::string level = "info";                        // trace … critical, off
  std::string format = "text";                       // text | json
  std::map<std::string, std::string> logger_levels;  // module -> level overrides
};

// The modules' loggers, by name: the names --logger-level accepts.
const std::vector<std::string>& logger_names();

// Checks options without applying them: the same errors setup_logging would give.
core::Result<bool> check_log_options(const LogOptions& options);

// Configures every logger, existing and future. Errors name the bad level, format or
// logger name.
core::Result<bool> setup_logging(const LogOptions& options);

// Counts every message into `wubd_log_messages_total{level,logger}` of `metrics`,
// which must outlive logging (the registry lives for the whole process).
void count_log_messages(core::MetricsRegistry& metrics);

// Sets the level of one module's logger, or of all when `name` is empty.
core::Result<bool> set_log_level(const std::string& name, const std::string& level);

// The logger of a module, created with the process's sinks on first use.
std::shared_ptr<spdlog::logger> logger(const std::string& name);

}  // namespace wubd::app
