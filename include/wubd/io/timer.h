#pragma once

#include <cstdint>
#include <functional>

#include <uv.h>

#include "wubd/io/uv_handle.h"

// A one-shot or repeating uv timer owned by one C++ object (lifetime.h). The owner may
// destroy it at any time, even from inside its callback: the callback then never
// runs again.
namespace wubd::io {

class Timer {
 public:
  explicit Timer(uv_loop_t* loop);
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
  static void on_timer_cb(uv_timer_t* timer) noexcept;

  UvHandle<uv_timer_t> timer_;
  std::function<void()> callback_;
};

}  // namespace wubd::io
