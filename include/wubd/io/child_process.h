#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "wubd/core/result.h"
#include "wubd/io/uv_handle.h"

// A child process (ffmpeg) on the loop, via uv_spawn, with pipes for its inputs
// (optional), stdout and stderr. Output arrives through callbacks as it comes; stdout
// can be paused for backpressure. The owner may destroy it at any time except inside
// one of its callbacks (lifetime.h, rule 3: defer_delete it there): the child is then
// killed, no callback runs again, and the uv handles close themselves (the
// uv_process_t only after the child's exit, so that it is reaped).
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
  // /dev/null. `passed_fds` are descriptors of ours the child gets next, after the
  // inputs (a file it writes to, opened under the archive's rules); the caller keeps
  // and closes its own. An error says what could not be started; no callback runs then.
  core::Result<bool> spawn(const std::vector<std::string>& argv, std::size_t inputs, Callbacks callbacks,
                           const std::vector<int>& passed_fds = {});
  // The child's descriptor for passed_fds[i], given `inputs` pipes.
  static int passed_fd_number(std::size_t inputs, std::size_t i) { return int(3 + (inputs > 1 ? inputs - 1 : 0) + i); }

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
  struct Input {
    UvHandle<uv_pipe_t> pipe;
    bool open = false;
    bool was_high = false;
  };

  static void on_alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) noexcept;
  static void on_read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_exit_cb(uv_process_t* process, std::int64_t status, int signal) noexcept;
  static void on_orphan_exit_cb(uv_process_t* process, std::int64_t status, int signal) noexcept;
  static void on_write_cb(uv_write_t* req, int status) noexcept;

  void on_read(uv_stream_t* stream, ssize_t nread, const char* bytes);
  void on_exit(std::int64_t status, int signal);
  void on_written(std::size_t input);
  void start_reading(UvHandle<uv_pipe_t>& pipe);
  void maybe_report();

  uv_loop_t* loop_;
  UvHandle<uv_process_t> process_;
  UvHandle<uv_pipe_t> out_, err_;
  std::vector<std::unique_ptr<Input>> inputs_;
  Callbacks callbacks_;
  bool spawned_ = false;
  bool exited_ = false;
  bool out_eof_ = false;
  bool err_eof_ = false;
  bool reported_ = false;
  bool out_paused_ = false;
  std::int64_t exit_status_ = 0;
  int term_signal_ = 0;
  int pid_ = 0;
  int in_callback_ = 0;  // destroying it inside one of them is a bug (rule 3)
};

}  // namespace wubd::io
