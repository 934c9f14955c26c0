#include "wubd/io/child_process.h"

#include <cassert>
#include <csignal>
#include <memory>

#include "wubd/io/uv_request.h"

namespace wubd::io {
namespace {

constexpr std::size_t kInputLowWatermark = 256 * 1024;

// One read buffer for every pipe of a loop's thread: libuv calls alloc and read back
// to back for one stream, and each read is handed on before the next. 64 KiB is what
// a pipe holds. Per thread, so that two daemons on two loops never share it; made at
// the first read, so that threads that never read (libuv's threadpool) carry none.
constexpr std::size_t kPipeBufferBytes = 64 * 1024;
thread_local std::unique_ptr<char[]> g_pipe_buffer;

// One write to a child's input: the bytes it writes and which input. The owner is
// found through the pipe's data, which the pipe's close clears.
struct InputBytes {
  std::string bytes;
  std::size_t input = 0;
};
using InputWrite = UvRequest<uv_write_t, InputBytes>;

}  // namespace

ChildProcess::ChildProcess(uv_loop_t* loop) : loop_(loop) {}

ChildProcess::~ChildProcess() {
  assert(in_callback_ == 0 && "a ChildProcess destroyed inside its own callback: defer_delete it");
  if (!spawned_ || exited_) return;  // the pipes and the process handle close with their owners
  uv_process_kill(process_.get(), SIGKILL);
  // Closed only once the child is reaped, by the exit callback, with nobody told.
  uv_process_t* process = process_.release();
  process->data = nullptr;
  process->exit_cb = &ChildProcess::on_orphan_exit_cb;
}

core::Result<bool> ChildProcess::spawn(const std::vector<std::string>& argv, std::size_t inputs, Callbacks callbacks,
                                       const std::vector<int>& passed_fds) {
  callbacks_ = std::move(callbacks);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  out_.init(uv_pipe_init, loop_, 0);
  err_.init(uv_pipe_init, loop_, 0);
  for (std::size_t i = 0; i < inputs; ++i) {
    auto input = std::make_unique<Input>();
    input->pipe.init(uv_pipe_init, loop_, 0);
    inputs_.push_back(std::move(input));
  }
  // stdin, stdout, stderr, then the inputs after the first at fds 3, 4, …
  std::vector<uv_stdio_container_t> stdio(std::size_t(passed_fd_number(inputs, 0)) + passed_fds.size());
  stdio[0].flags = UV_IGNORE;
  if (inputs > 0) {
    stdio[0].flags = uv_stdio_flags(UV_CREATE_PIPE | UV_READABLE_PIPE);
    stdio[0].data.stream = inputs_[0]->pipe.stream();
  }
  stdio[1].flags = uv_stdio_flags(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[1].data.stream = out_.stream();
  stdio[2].flags = uv_stdio_flags(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[2].data.stream = err_.stream();
  for (std::size_t i = 1; i < inputs; ++i) {
    stdio[i + 2].flags = uv_stdio_flags(UV_CREATE_PIPE | UV_READABLE_PIPE);
    stdio[i + 2].data.stream = inputs_[i]->pipe.stream();
  }
  for (std::size_t i = 0; i < passed_fds.size(); ++i) {
    uv_stdio_container_t& passed = stdio[std::size_t(passed_fd_number(inputs, i))];
    passed.flags = UV_INHERIT_FD;
    passed.data.fd = passed_fds[i];
  }
  uv_process_options_t options{};
  options.file = args[0];
  options.args = args.data();
  options.stdio = stdio.data();
  options.stdio_count = int(stdio.size());
  options.exit_cb = &ChildProcess::on_exit_cb;
  if (int rc = process_.init_even_on_failure(uv_spawn, loop_, &options); rc != 0) {
    // The handles close with their owners; no callback runs.
    process_.close();
    out_.close();
    err_.close();
    inputs_.clear();
    return core::make_error("cannot start " + argv[0] + ": " + uv_strerror(rc));
  }
  process_->data = this;
  spawned_ = true;
  pid_ = process_->pid;
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    inputs_[i]->open = true;
    inputs_[i]->pipe->data = this;
  }
  start_reading(out_);
  start_reading(err_);
  return true;
}

void ChildProcess::start_reading(UvHandle<uv_pipe_t>& pipe) {
  pipe->data = this;
  uv_read_start(pipe.stream(), &ChildProcess::on_alloc_cb, &ChildProcess::on_read_cb);
}

void ChildProcess::on_alloc_cb(uv_handle_t*, size_t, uv_buf_t* buf) noexcept {
  if (!g_pipe_buffer) g_pipe_buffer = std::make_unique<char[]>(kPipeBufferBytes);
  *buf = uv_buf_init(g_pipe_buffer.get(), kPipeBufferBytes);
}

void ChildProcess::on_read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  static_cast<ChildProcess*>(stream->data)->on_read(stream, nread, buf->base);
}

void ChildProcess::on_read(uv_stream_t* stream, ssize_t nread, const char* bytes) {
  bool is_out = stream == out_.stream();
  if (nread > 0) {
    auto& callback = is_out ? callbacks_.on_stdout : callbacks_.on_stderr;
    ++in_callback_;
    if (callback) callback(std::string_view(bytes, std::size_t(nread)));
    --in_callback_;
    return;
  }
  if (nread == 0) return;
  // EOF or an error: this pipe is done.
  (is_out ? out_eof_ : err_eof_) = true;
  (is_out ? out_ : err_).close();
  maybe_report();
}

void ChildProcess::on_exit_cb(uv_process_t* process, std::int64_t status, int signal) noexcept {
  static_cast<ChildProcess*>(process->data)->on_exit(status, signal);
}

void ChildProcess::on_orphan_exit_cb(uv_process_t* process, std::int64_t, int) noexcept {
  uv_close(reinterpret_cast<uv_handle_t*>(process), [](uv_handle_t* h) { delete reinterpret_cast<uv_process_t*>(h); });
}

void ChildProcess::on_exit(std::int64_t status, int signal) {
  exited_ = true;
  exit_status_ = status;
  term_signal_ = signal;
  process_.close();
  maybe_report();
}

void ChildProcess::maybe_report() {
  if (reported_ || !exited_ || !out_eof_ || !err_eof_) return;
  reported_ = true;
  ++in_callback_;
  if (callbacks_.on_exit) callbacks_.on_exit(exit_status_, term_signal_);
  --in_callback_;
}

bool ChildProcess::write_input(std::size_t index, std::string bytes) {
  if (index >= inputs_.size() || !inputs_[index]->open) return false;
  auto write = InputWrite::make();
  write->payload = InputBytes{std::move(bytes), index};
  uv_buf_t buf = uv_buf_init(write->payload.bytes.data(), unsigned(write->payload.bytes.size()));
  uv_stream_t* pipe = inputs_[index]->pipe.stream();
  if (InputWrite::submit(std::move(write), [&](uv_write_t* req) {
        return uv_write(req, pipe, &buf, 1, &ChildProcess::on_write_cb);
      }) != 0) {
    return false;
  }
  if (input_queued(index) >= kInputLowWatermark) inputs_[index]->was_high = true;
  return true;
}

void ChildProcess::on_write_cb(uv_write_t* req, int) noexcept {
  // A failed write (EPIPE: the child stopped reading, as ffmpeg does once it has cut
  // enough) is not an error of ours; the exit status tells.
  auto write = InputWrite::from(req);
  if (auto* self = static_cast<ChildProcess*>(req->handle->data)) self->on_written(write->payload.input);
}

void ChildProcess::on_written(std::size_t index) {
  Input& input = *inputs_[index];
  if (!input.open || !input.was_high || input_queued(index) >= kInputLowWatermark) return;
  input.was_high = false;
  ++in_callback_;
  if (callbacks_.on_input_drained) callbacks_.on_input_drained(index);
  --in_callback_;
}

std::size_t ChildProcess::input_queued(std::size_t index) const {
  if (index >= inputs_.size() || !inputs_[index]->open) return 0;
  return uv_stream_get_write_queue_size(inputs_[index]->pipe.stream());
}

void ChildProcess::close_input(std::size_t index) {
  if (index >= inputs_.size() || !inputs_[index]->open) return;
  Input& input = *inputs_[index];
  input.open = false;
  // Shut down after the queued writes, then close: the child sees EOF on its input.
  using Shutdown = UvRequest<uv_shutdown_t>;
  int rc = Shutdown::submit(Shutdown::make(), [&](uv_shutdown_t* shutdown) {
    return uv_shutdown(shutdown, input.pipe.stream(), [](uv_shutdown_t* req, int) {
      auto done = Shutdown::from(req);
      auto* self = static_cast<ChildProcess*>(req->handle->data);
      if (!self) return;  // the owner went first; the pipe is closed already
      for (auto& in : self->inputs_) {
        if (in->pipe.stream() == req->handle) in->pipe.close();
      }
    });
  });
  if (rc != 0) input.pipe.close();
}

void ChildProcess::pause_stdout() {
  if (!out_eof_ && !out_paused_ && out_) {
    uv_read_stop(out_.stream());
    out_paused_ = true;
  }
}

void ChildProcess::resume_stdout() {
  if (!out_eof_ && out_paused_ && out_) {
    out_paused_ = false;
    start_reading(out_);
  }
}

void ChildProcess::kill() {
  if (spawned_ && !exited_) uv_process_kill(process_.get(), SIGKILL);
}

bool ChildProcess::running() const { return spawned_ && !exited_; }

int ChildProcess::pid() const { return spawned_ ? pid_ : 0; }

}  // namespace wubd::io
