#include "wubd/io/lifetime.h"

#include <map>
#include <vector>

#include "wubd/io/uv_handle.h"

namespace wubd::io {
namespace {

struct Doomed {
  void* object;
  void (*destroy)(void*);
};

// One per loop while anything waits. An idle handle drains it: while one is active the loop polls without
// blocking, so the queue is emptied on the very next turn; when a drain leaves it empty,
// the queue frees itself and its handle, so a loop with nothing queued holds no handle
// of ours and uv_loop_close() succeeds.
struct DeferredDeletes;

// The queue of each loop, by loop. Not in uv_loop_t::data, which libuv leaves as it
// finds it (uv_loop_init keeps whatever was there) and which an embedder may use.
// Per thread (a loop runs on one), so no lock, and two daemons on two loops share
// nothing.
std::map<const uv_loop_t*, DeferredDeletes*>& queues() {
  thread_local std::map<const uv_loop_t*, DeferredDeletes*> by_loop;
  return by_loop;
}

struct DeferredDeletes {
  UvHandle<uv_idle_t> idle;
  std::vector<Doomed> queue;

  static void on_idle_cb(uv_idle_t* handle) noexcept {
    auto* self = static_cast<DeferredDeletes*>(handle->data);
    uv_loop_t* loop = handle->loop;
    // Objects queued by these destructors go to the fresh queue: the next turn.
    std::vector<Doomed> now = std::move(self->queue);
    self->queue.clear();
    for (const Doomed& doomed : now) doomed.destroy(doomed.object);
    if (!self->queue.empty()) return;
    queues().erase(loop);
    delete self;  // closes the idle handle, freed in its close callback
  }
};

}  // namespace

namespace detail {

void defer(uv_loop_t* loop, void* object, void (*destroy)(void*)) {
  DeferredDeletes*& deletes = queues()[loop];
  if (!deletes) {
    deletes = new DeferredDeletes;
    deletes->idle.init(uv_idle_init, loop);
    deletes->idle->data = deletes;
    uv_idle_start(deletes->idle.get(), &DeferredDeletes::on_idle_cb);
  }
  deletes->queue.push_back({object, destroy});
}

}  // namespace detail

std::size_t deferred_deletes(uv_loop_t* loop) {
  auto it = queues().find(loop);
  return it == queues().end() ? 0 : it->second->queue.size();
}

}  // namespace wubd::io
