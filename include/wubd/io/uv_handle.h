#pragma once

#include <utility>

#include <uv.h>

// The owning handle type of lifetime.h's rule 2: one uv handle (uv_timer_t, uv_poll_t,
// uv_tcp_t, uv_pipe_t, uv_signal_t, uv_idle_t, …) owned by one C++ object.
namespace wubd::io {

template <typename T>
class UvHandle {
 public:
  UvHandle() = default;
  ~UvHandle() { close(); }
  UvHandle(UvHandle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  UvHandle& operator=(UvHandle&& other) noexcept {
    if (this != &other) {
      close();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;

  // Allocates the handle and runs `init(loop, handle, args...)` (uv_timer_init,
  // uv_poll_init_socket, …) on it, closing any handle held before. Returns init's
  // result; on failure nothing is held (libuv registers a handle only once its init
  // succeeded, so there is nothing to close).
  template <typename Init, typename... Args>
  int init(Init init_fn, uv_loop_t* loop, Args&&... args) {
    close();
    T* handle = new T{};
    int rc = init_fn(loop, handle, std::forward<Args>(args)...);
    if (rc != 0) {
      delete handle;
      return rc;
    }
    handle_ = handle;
    return 0;
  }

  // The same for uv_spawn, which initialises the handle even when it fails: the
  // handle is held either way, so that it is closed either way.
  template <typename Init, typename... Args>
  int init_even_on_failure(Init init_fn, uv_loop_t* loop, Args&&... args) {
    close();
    handle_ = new T{};
    return init_fn(loop, handle_, std::forward<Args>(args)...);
  }

  // Closes the handle now; its memory is freed in the close callback. Its `data` is
  // cleared first, so that a callback libuv still delivers for it (a write or a
  // shutdown cancelled by the close) can tell that its owner is gone. Idempotent.
  void close() {
    T* handle = std::exchange(handle_, nullptr);
    if (!handle) return;
    auto* base = reinterpret_cast<uv_handle_t*>(handle);
    base->data = nullptr;
    uv_close(base, [](uv_handle_t* h) { delete reinterpret_cast<T*>(h); });
  }

  // Gives up ownership of a handle that must outlive its owner for a while (a
  // uv_process_t is closed only after its exit callback): the caller now closes it,
  // with a close callback that deletes it as a T.
  T* release() { return std::exchange(handle_, nullptr); }

  T* get() const { return handle_; }
  T* operator->() const { return handle_; }
  uv_handle_t* base() const { return reinterpret_cast<uv_handle_t*>(handle_); }
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(handle_); }
  explicit operator bool() const { return handle_ != nullptr; }

 private:
  T* handle_ = nullptr;
};

}  // namespace wubd::io
