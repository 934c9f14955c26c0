#include "wubd/io/timer.h"

#include <utility>

namespace wubd::io {

Timer::Timer(uv_loop_t* loop) {
  timer_.init(uv_timer_init, loop);
  timer_->data = this;
}

void Timer::start(std::uint64_t timeout_ms, std::function<void()> callback, std::uint64_t repeat_ms) {
  callback_ = std::move(callback);
  uv_timer_start(timer_.get(), &Timer::on_timer_cb, timeout_ms, repeat_ms);
}

void Timer::on_timer_cb(uv_timer_t* timer) noexcept {
  // A copy: the owner may restart or destroy this timer from inside the callback.
  auto callback = static_cast<Timer*>(timer->data)->callback_;
  if (callback) callback();
}

void Timer::stop() { uv_timer_stop(timer_.get()); }

bool Timer::active() const { return uv_is_active(timer_.base()) != 0; }

void Timer::unref() { uv_unref(timer_.base()); }

}  // namespace wubd::io
