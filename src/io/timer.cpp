#include "wubd/io/timer.h"

#include <utility>

namespace wubd::io {

struct Timer::Handle {
  uv_timer_t timer{};
  std::function<void()> callback;
};

Timer::Timer(uv_loop_t* loop) : handle_(new Handle) {
  uv_timer_init(loop, &handle_->timer);
  handle_->timer.data = handle_;
}

Timer::~Timer() {
  uv_timer_stop(&handle_->timer);
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_->timer),
           [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
}

void Timer::start(std::uint64_t timeout_ms, std::function<void()> callback, std::uint64_t repeat_ms) {
  handle_->callback = std::move(callback);
  uv_timer_start(
      &handle_->timer,
      [](uv_timer_t* t) {
        // A copy: the owner may restart or destroy this timer from inside the callback.
        auto callback = static_cast<Handle*>(t->data)->callback;
        if (callback) callback();
      },
      timeout_ms, repeat_ms);
}

void Timer::stop() { uv_timer_stop(&handle_->timer); }

bool Timer::active() const { return uv_is_active(reinterpret_cast<const uv_handle_t*>(&handle_->timer)) != 0; }

void Timer::unref() { uv_unref(reinterpret_cast<uv_handle_t*>(&handle_->timer)); }

}  // namespace wubd::io
