#include "wubd/io/child_process.h"

#include <csignal>
#include <memory>

namespace wubd::io {
namespace {

constexpr std::size_t kStdinLowWatermark = 256 * 1024;

}  // namespace

// Lives on the heap until every handle is closed and the owner let go, so that
// callbacks of closing handles never touch freed memory.
struct ChildProcess::State {
  uv_loop_t* loop = nullptr;
  uv_process_t process{};
  uv_pipe_t in{}, out{}, err{};
  Callbacks callbacks;
  bool owner_alive = true;
  bool spawned = false;
  bool exited = false;
  bool out_eof = false;
  bool err_eof = false;
  bool stdin_open = false;
  bool stdin_was_high = false;
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
  if (s->stdin_open) {
    s->stdin_open = false;
    s->close(reinterpret_cast<uv_handle_t*>(&s->in));
  }
  if (!s->out_eof) s->close(reinterpret_cast<uv_handle_t*>(&s->out));
  if (!s->err_eof) s->close(reinterpret_cast<uv_handle_t*>(&s->err));
  // The process handle closes in its exit callback (or already has).
  if (s->open_handles == 0) delete s;
}

core::Result<bool> ChildProcess::spawn(const std::vector<std::string>& argv, bool with_stdin, Callbacks callbacks) {
  State* s = state_;
  s->callbacks = std::move(callbacks);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  uv_pipe_init(s->loop, &s->out, 0);
  uv_pipe_init(s->loop, &s->err, 0);
  s->open_handles += 2;
  if (with_stdin) {
    uv_pipe_init(s->loop, &s->in, 0);
    ++s->open_handles;
  }
  uv_stdio_container_t stdio[3];
  stdio[0].flags = with_stdin ? uv_stdio_flags(UV_CREATE_PIPE | UV_READABLE_PIPE) : UV_IGNORE;
  stdio[0].data.stream = reinterpret_cast<uv_stream_t*>(&s->in);
  stdio[1].flags = uv_stdio_flags(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[1].data.stream = reinterpret_cast<uv_stream_t*>(&s->out);
  stdio[2].flags = uv_stdio_flags(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[2].data.stream = reinterpret_cast<uv_stream_t*>(&s->err);
  uv_process_options_t options{};
  options.file = args[0];
  options.args = args.data();
  options.stdio = stdio;
  options.stdio_count = 3;
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
    if (with_stdin) s->close(reinterpret_cast<uv_handle_t*>(&s->in));
    s->spawned = true;  // handles are closing: the destructor must not free early
    return core::make_error("cannot start " + argv[0] + ": " + uv_strerror(rc));
  }
  s->spawned = true;
  s->stdin_open = with_stdin;
  s->start_reading(&s->out);
  s->start_reading(&s->err);
  return true;
}

bool ChildProcess::write_stdin(std::string bytes) {
  State* s = state_;
  if (!s->stdin_open) return false;
  struct Write {
    uv_write_t req;
    std::string bytes;
    State* state;
  };
  auto* w = new Write{{}, std::move(bytes), s};
  w->req.data = w;
  uv_buf_t buf = uv_buf_init(w->bytes.data(), unsigned(w->bytes.size()));
  int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&s->in), &buf, 1, [](uv_write_t* req, int) {
    // A failed write (EPIPE: the child stopped reading, as ffmpeg does once it has
    // cut enough) is not an error of ours; the exit status tells.
    auto* write = static_cast<Write*>(req->data);
    State* state = write->state;
    delete write;
    if (!state->owner_alive || !state->stdin_open) return;
    if (state->stdin_was_high && uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&state->in)) <
                                     kStdinLowWatermark) {
      state->stdin_was_high = false;
      if (state->callbacks.on_stdin_drained) state->callbacks.on_stdin_drained();
    }
  });
  if (rc != 0) {
    delete w;
    return false;
  }
  if (stdin_queued() >= kStdinLowWatermark) s->stdin_was_high = true;
  return true;
}

std::size_t ChildProcess::stdin_queued() const {
  return state_->stdin_open ? uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&state_->in)) : 0;
}

void ChildProcess::close_stdin() {
  State* s = state_;
  if (!s->stdin_open) return;
  s->stdin_open = false;
  // Shut down after the queued writes, then close: the child sees EOF on its input.
  auto* req = new uv_shutdown_t{};
  req->data = s;
  int rc = uv_shutdown(req, reinterpret_cast<uv_stream_t*>(&s->in), [](uv_shutdown_t* r, int) {
    auto* state = static_cast<State*>(r->data);
    delete r;
    state->close(reinterpret_cast<uv_handle_t*>(&state->in));
  });
  if (rc != 0) {
    delete req;
    s->close(reinterpret_cast<uv_handle_t*>(&s->in));
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
