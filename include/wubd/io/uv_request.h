#pragma once

#include <memory>
#include <utility>

#include <uv.h>

// The owning type of lifetime.h's rule for uv requests (rule 2's counterpart of
// UvHandle): a request (uv_write_t, uv_shutdown_t) and what it carries, such as the
// bytes a write sends, allocated for one submission and freed in its callback. libuv
// owns it between the two; nothing else holds it, so nothing else frees it. The
// callback learns whether its handle's owner is still there from the handle's `data`,
// which UvHandle::close() clears (a close cancels the request; libuv calls back before
// it frees the handle).
namespace wubd::io {

struct NoPayload {};

template <typename Req, typename Payload = NoPayload>
struct UvRequest {
  Req req{};
  Payload payload{};

  static std::unique_ptr<UvRequest> make() { return std::make_unique<UvRequest>(); }

  // In the callback: takes the request back from libuv; it is freed when this goes.
  static std::unique_ptr<UvRequest> from(Req* req) {
    return std::unique_ptr<UvRequest>(static_cast<UvRequest*>(req->data));
  }

  // Hands the request to libuv through `submit(&req)` (a call of uv_write, uv_shutdown,
  // … with a callback that calls from()). Returns submit's result; when it failed the
  // request is freed here, as libuv will never call back.
  template <typename Submit>
  static int submit(std::unique_ptr<UvRequest> request, Submit submit_fn) {
    request->req.data = request.get();
    int rc = submit_fn(&request->req);
    if (rc == 0) static_cast<void>(request.release());  // libuv's until the callback
    return rc;
  }
};

}  // namespace wubd::io
