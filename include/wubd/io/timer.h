#pragma once

#include <cstdint>
#include <functional>

#include <uv.h>

// A one-shot or repeating uv timer owned by one C++ object. The uv handle and the
// callback live on the heap and are freed in the handle's close callback, so the
// owner may be destroyed at any time, even from inside the callback: after that the
// callback never runs again.
namespace wubd::io {

class Timer {
 public:
  explicit Timer(uv_loop_t* loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // (Re)starts the timer: `callback` runs after `timeout_ms`, then every `repeat_ms`
  // if that is not 0. A running timer is restarted.
  void start(std::uint64_t timeout_ms, std::function<void()> callback, std::uint64_t repeat_ms = 0);
  void stop();
  bool active() const;
  // Lets the loop exit while only this timer is pending.
  void unref();

 private:
  struct Handle;
  Handle* handle_;
};

}  // namespace wubd::io
