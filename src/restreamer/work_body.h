#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <uv.h>

#include "wubd/core/result.h"
#include "wubd/io/http_body.h"
#include "wubd/io/task_group.h"

// Responses computed off the loop: decoding a frame, drawing a waveform, probing
// variants, reading chat batches. One piece of work runs in libuv's threadpool and
// its result is the whole answer. The connection owns the body; when the client
// leaves first, the body goes and the result is dropped (the work finishes on its own
// and frees what it holds, a job slot included).
namespace wubd::restreamer {

struct Reply {
  int status = 200;
  std::string content_type;
  std::string body;
};

class WorkBody final : public io::HttpBody {
 public:
  // Runs in the threadpool: must hold what it touches by value or shared_ptr.
  using Work = std::function<core::Result<Reply>()>;
  // Runs on the loop with the work's result before it is sent (to cache it, say).
  using Then = std::function<void(const core::Result<Reply>&)>;

  // Ready to run at once, unless hold_place() is called before the body starts.
  WorkBody(uv_loop_t* loop, Work work, Then then = {});

  // The body waits its turn in a JobQueue: `ticket` is its place (dropped with the
  // body, which leaves the queue); the work runs once ready() is called.
  void hold_place(std::shared_ptr<void> ticket);
  // The queue's turn: `slot` is held by the work until it ends, even past the body.
  void ready(std::shared_ptr<void> slot);

  void start(io::BodyWriter& out) override;

 private:
  void run();

  io::TaskGroup tasks_;
  Work work_;
  Then then_;
  io::BodyWriter* out_ = nullptr;
  bool waiting_ = false;
  bool got_slot_ = false;  // (a slot is a null pointer with a deleter: it tests false)
  std::shared_ptr<void> ticket_;
  std::shared_ptr<void> slot_;
};

}  // namespace wubd::restreamer
