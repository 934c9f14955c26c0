#pragma once

#include <gtest/gtest.h>
#include <uv.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "wubd/io/lifetime.h"
#include "wubd/io/uv_request.h"

namespace wubd::io {

// One fresh libuv loop per test. spin_until() runs it until a condition holds and
// reports a timeout as a failure (use it as ASSERT_TRUE(spin_until(...))), and the
// end of every test checks that everything closed: uv_loop_close() == 0, so each test
// is also a leak check, as in libuv's own suite.
class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(uv_loop_init(&loop_), 0); }

  // Fixtures that own servers or clients close them first, then call this.
  void TearDown() override { close_loop(); }

  // Runs the loop until `done()` is true; false (and a failure naming the wait) if it
  // is not within `seconds`.
  [[nodiscard]] bool spin_until(const std::function<bool()>& done, double seconds = 10) {
    std::uint64_t deadline = uv_hrtime() + std::uint64_t(seconds * 1e9);
    while (!done()) {
      if (uv_hrtime() > deadline) {
        ADD_FAILURE() << "timed out after " << seconds << " s waiting for the loop";
        return false;
      }
      uv_run(&loop_, UV_RUN_NOWAIT);
    }
    return true;
  }

  // Runs the loop for about `ms` milliseconds whatever happens.
  void spin_for(std::uint64_t ms) {
    std::uint64_t until = uv_hrtime() + ms * 1'000'000;
    while (uv_hrtime() < until) uv_run(&loop_, UV_RUN_NOWAIT);
  }

  // Returns once every piece of threadpool work queued before the call has finished
  // (its result not yet taken: that waits for the loop to run). libuv's pool starts
  // work in the order it was queued, so once a marker occupies every thread of the
  // pool, all that came before is done. The markers then finish; their callbacks run
  // with the loop.
  void wait_for_threadpool() {
    const char* size_text = std::getenv("UV_THREADPOOL_SIZE");
    const int threads = size_text && std::atoi(size_text) > 0 ? std::atoi(size_text) : 4;  // libuv's default
    struct Barrier {
      std::atomic<int> arrived{0};
      std::atomic<bool> release{false};
    };
    auto barrier = std::make_shared<Barrier>();
    using Marker = UvRequest<uv_work_t, std::shared_ptr<Barrier>>;
    for (int i = 0; i < threads; ++i) {
      auto marker = Marker::make();
      marker->payload = barrier;
      Marker::submit(std::move(marker), [&](uv_work_t* work) {
        return uv_queue_work(
            &loop_, work,
            [](uv_work_t* w) {
              Barrier& b = *static_cast<Marker*>(w->data)->payload;
              b.arrived.fetch_add(1);
              while (!b.release.load()) std::this_thread::yield();
            },
            [](uv_work_t* w, int) { Marker::from(w); });
      });
    }
    while (barrier->arrived.load() < threads) std::this_thread::yield();
    barrier->release.store(true);
  }

  // Lets every closing handle and deferred delete finish (at most a few seconds: a
  // test that left something running fails here instead of hanging), then closes.
  void close_loop() {
    std::uint64_t deadline = uv_hrtime() + 5'000'000'000ull;
    while (uv_loop_alive(&loop_) && uv_hrtime() < deadline) uv_run(&loop_, UV_RUN_NOWAIT);
    EXPECT_EQ(deferred_deletes(&loop_), 0u) << "objects left in the deferred-delete queue";
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "a handle leaked";
  }

  uv_loop_t loop_{};
};

}  // namespace wubd::io
