#pragma once

#include <gtest/gtest.h>
#include <uv.h>

#include <functional>

#include "wubd/io/lifetime.h"

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
