#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "wubd/core/result.h"

// A child process (ffmpeg) on the loop, via uv_spawn, with pipes for its inputs
// (optional), stdout and stderr. Output arrives through callbacks as it comes; stdout
// can be paused for backpressure. The owner may destroy this object at any time, even
// from inside a callback: the child is then killed, no callback runs again, and the
// uv handles free themselves once closed (a uv_process_t only after its exit).
namespace wubd::io {

class ChildProcess {
 public:
  struct Callbacks {
    std::function<void(std::string_view bytes)> on_stdout;
    std::function<void(std::string_view bytes)> on_stderr;
    // Once, after the child exited and its stdout and stderr reached EOF, so every
    // byte it wrote was delivered first. `signal` is 0 unless it was killed.
    std::function<void(std::int64_t exit_status, int signal)> on_exit;
    // An input's queue fell below the low watermark after being above it.
    std::function<void(std::size_t input)> on_input_drained;
  };

  explicit ChildProcess(uv_loop_t* loop);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] (looked up in PATH) with `inputs` pipes to feed: input 0 is its
  // stdin, input k > 0 its fd k + 2 (ffmpeg's pipe:3, pipe:4, …). With none, stdin is
  // /dev/null. An error says what could not be started; no callback runs then.
  core::Result<bool> spawn(const std::vector<std::string>& argv, std::size_t inputs, Callbacks callbacks);

  // Queues bytes for an input. False once that input is closed or broken.
  bool write_input(std::size_t input, std::string bytes);
  std::size_t input_queued(std::size_t input) const;
  // Closes an input after its queued bytes: the child sees EOF there.
  void close_input(std::size_t input);

  void pause_stdout();
  void resume_stdout();

  // SIGKILL; on_exit still follows (with the signal).
  void kill();
  bool running() const;
  int pid() const;

 private:
  struct State;
  State* state_;
};

}  // namespace wubd::io
