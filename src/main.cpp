// wubd: archives live HLS streams and serves the archive back over HTTP.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "wubd/app/config.h"
#include "wubd/app/daemon.h"
#include "wubd/downloader/inspect_playlist.h"

namespace {

int run(int argc, char** argv) {
  auto command = wubd::app::parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  if (!command) {
    std::fprintf(stderr, "wubd: %s\n", command.error().message.c_str());
    return 2;
  }
  switch (command->kind) {
    case wubd::app::Command::Kind::Print:
      std::fputs(command->output.c_str(), stdout);
      return 0;
    case wubd::app::Command::Kind::InspectPlaylist:
      return wubd::downloader::inspect_playlist(command->inspect_source, command->inspect_base_uri);
    case wubd::app::Command::Kind::Run:
      break;
  }
  return wubd::app::run_daemon(command->config);
}

}  // namespace

int main(int argc, char** argv) {
  // libuv's threadpool (4 threads unless told) does the archive's file work, reads of
  // segments not in the page cache, probes and encodes. A disk that stalls can hold
  // every thread with writes; 16 leave room for the rest. An operator's own setting
  // wins. Read by libuv when the pool first starts, so set before anything runs.
  setenv("UV_THREADPOOL_SIZE", "16", 0);
  // glibc gives each thread that allocates its own malloc arena (up to 8 per core),
  // and an arena keeps what it freed: 16 pool threads running cuts' encoders in turn
  // grew RSS by ~25 MiB in a 6-minute soak over 4 threads. Four arenas, as the pool
  // of 4 had; the threads mostly wait on the disk, not on malloc. MALLOC_ARENA_MAX wins.
  if (!std::getenv("MALLOC_ARENA_MAX")) mallopt(M_ARENA_MAX, 4);
  // Errors are results, not exceptions; one escaping (out of memory) is reported as
  // what it is, not as an abort.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wubd: %s\n", e.what());
    return 1;
  }
}
