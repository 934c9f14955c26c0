// The lifetime toolkit (lifetime.h): deferred deletes, owning uv handles and the
// threadpool tasks of an owner, each on a real loop and each a leak check.
#include "wubd/io/lifetime.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

#include "loop_test.h"
#include "wubd/io/task_group.h"
#include "wubd/io/timer.h"
#include "wubd/io/uv_handle.h"

namespace wubd::io {
namespace lifetime_test {

using LifetimeTest = LoopTest;

struct Tracked {
  explicit Tracked(std::vector<std::string>& log, std::string name) : log(log), name(std::move(name)) {}
  ~Tracked() { log.push_back(name); }
  std::vector<std::string>& log;
  std::string name;
};

TEST_F(LifetimeTest, DeferredDeletesHappenOnTheNextTurnInOrder) {
  std::vector<std::string> freed;
  defer_delete(&loop_, std::make_unique<Tracked>(freed, "a"));
  defer_delete(&loop_, std::make_unique<Tracked>(freed, "b"));
  EXPECT_TRUE(freed.empty()) << "never inside the caller's frame";
  EXPECT_EQ(deferred_deletes(&loop_), 2u);
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(freed, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(deferred_deletes(&loop_), 0u);
}

// An object whose destructor defers another: that one waits for the next turn.
struct Chained {
  Chained(uv_loop_t* loop, std::vector<std::string>& log) : loop(loop), log(log) {}
  ~Chained() {
    log.push_back("first");
    defer_delete(loop, std::make_unique<Tracked>(log, "second"));
  }
  uv_loop_t* loop;
  std::vector<std::string>& log;
};

TEST_F(LifetimeTest, ADeleteQueuedWhileDrainingWaitsForTheNextTurn) {
  std::vector<std::string> freed;
  defer_delete(&loop_, std::make_unique<Chained>(&loop_, freed));
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(freed, std::vector<std::string>{"first"});
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(freed, (std::vector<std::string>{"first", "second"}));
}

TEST_F(LifetimeTest, TheQueueKeepsTheLoopRunningUntilItIsEmpty) {
  std::vector<std::string> freed;
  defer_delete(&loop_, std::make_unique<Tracked>(freed, "a"));
  uv_run(&loop_, UV_RUN_DEFAULT);  // returns only once nothing is left
  EXPECT_EQ(freed, std::vector<std::string>{"a"});
}

TEST_F(LifetimeTest, AHandleClosedByItsOwnerIsFreedInItsCloseCallback) {
  int fired = 0;
  {
    UvHandle<uv_timer_t> timer;
    ASSERT_EQ(timer.init(uv_timer_init, &loop_), 0);
    timer->data = &fired;
    uv_timer_start(
        timer.get(), [](uv_timer_t* t) { ++*static_cast<int*>(t->data); }, 0, 1);
    ASSERT_TRUE(spin_until([&] { return fired > 0; }));
  }  // destroyed while active: closed, and never fires again
  int before = fired;
  spin_for(10);
  EXPECT_EQ(fired, before);
}

TEST_F(LifetimeTest, ATimerMayBeDestroyedInsideItsOwnCallback) {
  auto timer = std::make_unique<Timer>(&loop_);
  bool fired = false;
  timer->start(1, [&] {
    fired = true;
    timer.reset();
  });
  ASSERT_TRUE(spin_until([&] { return fired; }));
  EXPECT_EQ(timer, nullptr);
}

TEST_F(LifetimeTest, ATaskGroupDestroyedEarlyDropsTheResult) {
  bool delivered = false;
  bool worked = false;
  {
    TaskGroup tasks(&loop_);
    ASSERT_EQ(tasks.run([&worked] { worked = true; }, [&] { delivered = true; }), 0);
    EXPECT_EQ(tasks.pending(), 1u);
  }
  uv_run(&loop_, UV_RUN_DEFAULT);  // the work still runs, and frees itself
  EXPECT_TRUE(worked);
  EXPECT_FALSE(delivered);
}

TEST_F(LifetimeTest, ComputeDeliversTheResultOnTheLoop) {
  TaskGroup tasks(&loop_);
  int result = 0;
  ASSERT_EQ(tasks.compute<int>([] { return 6 * 7; }, [&](int value) { result = value; }), 0);
  ASSERT_TRUE(spin_until([&] { return result != 0; }));
  EXPECT_EQ(result, 42);
  EXPECT_EQ(tasks.pending(), 0u);
}

// FullCut's defect: a feed's descriptor closed while a threadpool read of it could
// still run, so the read might land in whatever file reused the number. A read holds
// its file: the descriptor outlives both the owner and the owner's last reference.
TEST_F(LifetimeTest, AReadKeepsItsFileOpenUntilItEnds) {
  char path[] = "/tmp/wubd-read-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "0123456789", 10), 10);
  bool delivered = false;
  {
    auto file = std::make_shared<const OwnedFd>(fd);
    TaskGroup tasks(&loop_);
    ASSERT_EQ(tasks.read(file, 2, 4, [&](ssize_t, std::string) { delivered = true; }), 0);
  }  // the owner and its reference are gone; the read is still queued or running
  EXPECT_NE(fcntl(fd, F_GETFD), -1) << "closed under a read in flight";
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(fcntl(fd, F_GETFD), -1) << "still open after the read ended";
  EXPECT_FALSE(delivered);
  std::remove(path);
}

TEST_F(LifetimeTest, AReadDeliversItsBytes) {
  char path[] = "/tmp/wubd-read-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "0123456789", 10), 10);
  TaskGroup tasks(&loop_);
  std::string got;
  ssize_t result = -1;
  auto file = std::make_shared<const OwnedFd>(fd);
  ASSERT_EQ(tasks.read(file, 2, 4,
                       [&](ssize_t n, std::string bytes) {
                         result = n;
                         got = std::move(bytes);
                       }),
            0);
  ASSERT_TRUE(spin_until([&] { return result >= 0; }));
  EXPECT_EQ(result, 4);
  EXPECT_EQ(got, "2345");
  std::remove(path);
}

}  // namespace lifetime_test
}  // namespace wubd::io
