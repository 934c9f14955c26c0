#include "work_body.h"

#include <algorithm>

namespace wubd::restreamer {

WorkBody::WorkBody(uv_loop_t* loop, Work work, Then then)
    : tasks_(loop), work_(std::move(work)), then_(std::move(then)) {}

void WorkBody::hold_place(std::shared_ptr<void> ticket) {
  ticket_ = std::move(ticket);
  waiting_ = !got_slot_;  // the queue may have had a slot at once
}

void WorkBody::ready(std::shared_ptr<void> slot) {
  slot_ = std::move(slot);
  got_slot_ = true;
  ticket_.reset();
  waiting_ = false;
  if (out_) run();
}

void WorkBody::start(io::BodyWriter& out) {
  out_ = &out;
  if (!waiting_) run();
}

void WorkBody::run() {
  // The slot goes with the work, so a client that leaves frees it only when the work
  // it started is over.
  int rc = tasks_.compute<core::Result<Reply>>(
      [work = work_, slot = std::move(slot_)] { return work(); },
      [this](core::Result<Reply> reply) {
        if (then_) then_(reply);
        if (out_->finished()) return;
        if (!reply) return out_->fail(reply.error().code ? reply.error().code : 500, reply.error().message);
        out_->begin(reply->status, reply->content_type, std::int64_t(reply->body.size()));
        out_->write(std::move(reply->body));
        out_->end();
      });
  if (rc != 0) out_->fail(503, std::string("cannot queue work: ") + uv_err_name(rc));
}

}  // namespace wubd::restreamer
