#include "wubd/io/child_process.h"

#include <csignal>
#include <memory>
#include <vector>

namespace wubd::io {
namespace {

constexpr std::size_t kInputLowWatermark = 256 * 1024;

}  // namespace

// Lives on the heap until every handle is closed and the owner let go, so that
// callbacks of closing handles never touch freed memory.
struct ChildProcess::State {
  struct Input {
    uv_pipe_t pipe{};
    std::size_t index = 0;
    bool open = false;
    bool was_high = false;
  };

  uv_loop_t* loop = nullptr;
  uv_process_t process{};
  uv_pipe_t out{}, err{};
  std::vector<std::unique_ptr<Input>> inputs;  // uv handles must not move
  Callbacks callbacks;
  bool owner_alive = true;
  bool spawned = false;
  bool exited = false;
  bool out_eof = false;
  bool err_eof = false;
  bool reported = false;
  bool out_paused = false;
  std::int64_t exit_status = 0;
  int term_signal = 0;
  int open_handles = 0;

  void close(uv_handle_t* handle) {
    if (uv_is_closing(handle)) return;
    handle->data = this;
    uv_close(handle, [](uv_handle_t* h) {
      auto* self = static_cast<State*>(h->data);
      if (--self->open_handles == 0 && !self->owner_alive) delete self;
    });
  }

  void maybe_report() {
    if (reported || !exited || !out_eof || !err_eof) return;
    reported = true;
    if (owner_alive && callbacks.on_exit) callbacks.on_exit(exit_status, term_signal);
  }

  void start_reading(uv_pipe_t* pipe) {
    pipe->data = this;
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(pipe),
        [](uv_handle_t*, size_t, uv_buf_t* buf) {
          // 64 KiB: what a pipe holds; each read is handed on and freed at once.
          buf->base = new char[65536];
          buf->len = 65536;
        },
        [](uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
          std::unique_ptr<char[]> bytes(buf->base);
          auto* self = static_cast<State*>(stream->data);
          bool is_out = stream == reinterpret_cast<uv_stream_t*>(&self->out);
          if (n > 0) {
            if (self->owner_alive) {
              auto& callback = is_out ? self->callbacks.on_stdout : self->callbacks.on_stderr;
              if (callback) callback(std::string_view(bytes.get(), std::size_t(n)));
            }
            return;
          }
          if (n == 0) return;
          // EOF or an error: this pipe is done.
          (is_out ? self->out_eof : self->err_eof) = true;
          self->close(reinterpret_cast<uv_handle_t*>(stream));
          self->maybe_report();
        });
  }
};

ChildProcess::ChildProcess(uv_loop_t* loop) : state_(new State) { state_->loop = loop; }

ChildProcess::~ChildProcess() {
  State* s = state_;
  s->owner_alive = false;
  if (!s->spawned) {
    if (s->open_handles == 0) delete s;
    return;
  }
  if (!s->exited) uv_process_kill(&s->process, SIGKILL);
  for (auto& input : s->inputs) {
    if (!input->open) continue;
    input->open = false;
    s->close(reinterpret_cast<uv_handle_t*>(&input->pipe));
  }
  if (!s->out_eof) s->close(reinterpret_cast<uv_handle_t*>(&s->out));
  if (!s->err_eof) s->close(reinterpret_cast<uv_handle_t*>(&s->err));
  // The process handle closes in its exit callback (or already has).
  if (s->open_handles == 0) delete s;
}

core::Result<bool> ChildProcess::spawn(const std::vector<std::string>& argv, std::size_t inputs,
                                       Callbacks callbacks) {
  State* s = state_;
  s->callbacks = std::move(callbacks);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  uv_pipe_init(s->loop, &s->out, 0);
  uv_pipe_init(s->loop, &s->err, 0);
  s->open_handles += 2;
  for (std::size_t i = 0; i < inputs; ++i) {
    auto input = std::make_unique<State::Input>();
    input->index = i;
    uv_pipe_init(s->loop, &input->pipe, 0);
    ++s->open_handles;
    s->inputs.push_back(std::move(input));
  }
  auto pipe_of = [](uv_pipe_t& pipe) { return reinterpret_cast<uv_stream_t*>(&pipe); };
  // stdin, stdout, stderr, then the inputs after the first at fds 3, 4, …
  std::vector<uv_stdio_container_t> stdio(3 + (inputs > 1 ? inputs - 1 : 0));
  stdio[0].flags = UV_IGNORE;
  if (inputs > 0) {
    stdio[0].flags = uv_stdio_flags(UV_CREATE_PIPE | UV_READABLE_PIPE);
    stdio[0].data.stream = pipe_of(s->inputs[0]->pipe);
  }
  stdio[1].flags = uv_stdio_flags(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[1].data.stream = pipe_of(s->out);
  stdio[2].flags = uv_stdio_flags(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[2].data.stream = pipe_of(s->err);
  for (std::size_t i = 1; i < inputs; ++i) {
    stdio[i + 2].flags = uv_stdio_flags(UV_CREATE_PIPE | UV_READABLE_PIPE);
    stdio[i + 2].data.stream = pipe_of(s->inputs[i]->pipe);
  }
  uv_process_options_t options{};
  options.file = args[0];
  options.args = args.data();
  options.stdio = stdio.data();
  options.stdio_count = int(stdio.size());
  options.exit_cb = [](uv_process_t* process, std::int64_t status, int signal) {
    auto* self = static_cast<State*>(process->data);
    self->exited = true;
    self->exit_status = status;
    self->term_signal = signal;
    self->close(reinterpret_cast<uv_handle_t*>(process));
    self->maybe_report();
  };
  s->process.data = s;
  ++s->open_handles;
  int rc = uv_spawn(s->loop, &s->process, &options);
  if (rc != 0) {
    // A failed spawn still initialised the handle: it must be closed like the pipes.
    s->exited = s->out_eof = s->err_eof = s->reported = true;
    s->close(reinterpret_cast<uv_handle_t*>(&s->process));
    s->close(reinterpret_cast<uv_handle_t*>(&s->out));
    s->close(reinterpret_cast<uv_handle_t*>(&s->err));
    for (auto& input : s->inputs) s->close(reinterpret_cast<uv_handle_t*>(&input->pipe));
    s->spawned = true;  // handles are closing: the destructor must not free early
    return core::make_error("cannot start " + argv[0] + ": " + uv_strerror(rc));
  }
  s->spawned = true;
  for (auto& input : s->inputs) input->open = true;
  s->start_reading(&s->out);
  s->start_reading(&s->err);
  return true;
}

bool ChildProcess::write_input(std::size_t index, std::string bytes) {
  State* s = state_;
  if (index >= s->inputs.size() || !s->inputs[index]->open) return false;
  State::Input* input = s->inputs[index].get();
  struct Write {
    uv_write_t req;
    std::string bytes;
    State* state;
    State::Input* input;
  };
  auto* w = new Write{{}, std::move(bytes), s, input};
  w->req.data = w;
  uv_buf_t buf = uv_buf_init(w->bytes.data(), unsigned(w->bytes.size()));
  auto* stream = reinterpret_cast<uv_stream_t*>(&input->pipe);
  int rc = uv_write(&w->req, stream, &buf, 1, [](uv_write_t* req, int) {
    // A failed write (EPIPE: the child stopped reading, as ffmpeg does once it has
    // cut enough) is not an error of ours; the exit status tells.
    auto* write = static_cast<Write*>(req->data);
    State* state = write->state;
    State::Input* in = write->input;
    delete write;
    if (!state->owner_alive || !in->open) return;
    if (in->was_high &&
        uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&in->pipe)) < kInputLowWatermark) {
      in->was_high = false;
      if (state->callbacks.on_input_drained) state->callbacks.on_input_drained(in->index);
    }
  });
  if (rc != 0) {
    delete w;
    return false;
  }
  if (input_queued(index) >= kInputLowWatermark) input->was_high = true;
  return true;
}

std::size_t ChildProcess::input_queued(std::size_t index) const {
  const State* s = state_;
  if (index >= s->inputs.size() || !s->inputs[index]->open) return 0;
  return uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(&s->inputs[index]->pipe));
}

void ChildProcess::close_input(std::size_t index) {
  State* s = state_;
  if (index >= s->inputs.size() || !s->inputs[index]->open) return;
  State::Input* input = s->inputs[index].get();
  input->open = false;
  // Shut down after the queued writes, then close: the child sees EOF on its input.
  struct Shutdown {
    uv_shutdown_t req;
    State* state;
    State::Input* input;
  };
  auto* shutdown = new Shutdown{{}, s, input};
  shutdown->req.data = shutdown;
  int rc = uv_shutdown(&shutdown->req, reinterpret_cast<uv_stream_t*>(&input->pipe), [](uv_shutdown_t* r, int) {
    std::unique_ptr<Shutdown> done(static_cast<Shutdown*>(r->data));
    done->state->close(reinterpret_cast<uv_handle_t*>(&done->input->pipe));
  });
  if (rc != 0) {
    delete shutdown;
    s->close(reinterpret_cast<uv_handle_t*>(&input->pipe));
  }
}

void ChildProcess::pause_stdout() {
  if (!state_->out_eof && !state_->out_paused) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&state_->out));
    state_->out_paused = true;
  }
}

void ChildProcess::resume_stdout() {
  if (!state_->out_eof && state_->out_paused) {
    state_->out_paused = false;
    state_->start_reading(&state_->out);
  }
}

void ChildProcess::kill() {
  if (state_->spawned && !state_->exited) uv_process_kill(&state_->process, SIGKILL);
}

bool ChildProcess::running() const { return state_->spawned && !state_->exited; }

int ChildProcess::pid() const { return state_->spawned ? state_->process.pid : 0; }

}  // namespace wubd::io
