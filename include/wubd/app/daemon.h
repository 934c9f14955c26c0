#pragma once

#include "wubd/app/config.h"

// The daemon: the roles `config` enables on one libuv loop, from start to a clean stop.
namespace wubd::app {

// Sets up logging, removes stale temp files of a writing node, listens, runs the
// downloader and backfiller if configured, and returns the exit code once SIGTERM or
// SIGINT has stopped everything (a second signal exits at once).
int run_daemon(const Config& config);

}  // namespace wubd::app
