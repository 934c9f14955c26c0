#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "wubd/io/beneath.h"

// Work in libuv's threadpool on behalf of one owner (lifetime.h, rule 4): short,
// bounded blocking work — reading a file the page cache does not hold, a media file's
// headers, encoding a few frames — with its result applied on the loop.
namespace wubd::io {

class TaskGroup {
 public:
  explicit TaskGroup(uv_loop_t* loop) : loop_(loop) {}
  // Results of work still running are dropped; that work finishes on its own and
  // frees itself (with whatever it holds).
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Runs `work` on a threadpool thread, then `done` on the loop, unless this group
  // was destroyed first. `work` must touch nothing the owner may free: it holds what
  // it needs by value or shared_ptr. Returns 0, or uv_queue_work's error, in which
  // case neither runs. wubd never cancels queued work, so `done` always follows.
  int run(std::function<void()> work, std::function<void()> done);

  // run() for work with a result: `done` gets what `work` returned.
  template <typename R>
  int compute(std::function<R()> work, std::function<void(R)> done) {
    auto result = std::make_shared<std::unique_ptr<R>>();
    return run([result, work = std::move(work)] { *result = std::make_unique<R>(work()); },
               [result, done = std::move(done)] { done(std::move(**result)); });
  }

  // Reads up to `length` bytes of `file` from `offset`; `done` gets the count read
  // (0 at the end of the file) or -errno, and the bytes. The read holds `file`, so the
  // descriptor stays open until the read is over, whoever else lets go of it first.
  int read(std::shared_ptr<const OwnedFd> file, std::int64_t offset, std::size_t length,
           std::function<void(ssize_t result, std::string bytes)> done);

  std::size_t pending() const { return tasks_.size(); }
  uv_loop_t* loop() const { return loop_; }

 private:
  struct Task;
  void forget(Task* task);

  uv_loop_t* loop_;
  std::vector<Task*> tasks_;  // in flight; their `group` points back here
};

}  // namespace wubd::io
