#include "wubd/io/threadpool.h"

#include <memory>

namespace wubd::io {
namespace {

struct Work {
  uv_work_t req{};
  std::function<void()> work;
  std::function<void(int)> done;
};

}  // namespace

int run_in_threadpool(uv_loop_t* loop, std::function<void()> work, std::function<void(int status)> done) {
  auto* w = new Work;
  w->work = std::move(work);
  w->done = std::move(done);
  w->req.data = w;
  int rc = uv_queue_work(
      loop, &w->req, [](uv_work_t* req) { static_cast<Work*>(req->data)->work(); },
      [](uv_work_t* req, int status) {
        std::unique_ptr<Work> owned(static_cast<Work*>(req->data));
        owned->done(status);
      });
  if (rc != 0) delete w;
  return rc;
}

}  // namespace wubd::io
