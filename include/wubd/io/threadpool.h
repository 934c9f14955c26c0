#pragma once

#include <functional>

#include <uv.h>

// Short, bounded blocking work (reading a media file's headers, remuxing a segment)
// in libuv's threadpool, with its result applied on the loop.
namespace wubd::io {

// Runs `work` on a threadpool thread, then `done` on the loop (status 0, or
// UV_ECANCELED if the loop cancelled it). Returns 0, or uv_queue_work's error, in
// which case neither runs. Whatever `work` touches must stay alive until `done`:
// capture owners by shared_ptr, not `this`.
int run_in_threadpool(uv_loop_t* loop, std::function<void()> work, std::function<void(int status)> done);

}  // namespace wubd::io
