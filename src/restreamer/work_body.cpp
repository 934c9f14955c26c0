#include "work_body.h"

#include <algorithm>

namespace wubd::restreamer {

WorkBody::WorkBody(uv_loop_t* loop, Work work, Then then)
    : tasks_(loop), work_(std::move(work)), then_(std::move(then)) {}

void WorkBody::hold_place(std::shared_ptr<void> ticket) {
  ticket_ = std::move(ticket);
  waiting_ = !slot_;  // the queue may have had a slot at once
}

void WorkBody::ready(std::shared_ptr<void> slot) {
  slot_ = std::move(slot);
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

JobQueue::JobQueue(std::size_t limit, std::size_t max_waiting) : state_(std::make_shared<State>()) {
  state_->limit = std::max<std::size_t>(limit, 1);
  state_->max_waiting = max_waiting;
}

std::shared_ptr<void> JobQueue::take_slot(const std::shared_ptr<State>& state) {
  ++state->running;
  std::weak_ptr<State> weak = state;
  // The slot owns nothing; its deleter frees the place and starts the next in line.
  return std::shared_ptr<void>(nullptr, [weak](void*) {
    auto alive = weak.lock();
    if (!alive) return;
    --alive->running;
    if (alive->waiting.empty() || alive->running >= alive->limit) return;
    Start next = std::move(alive->waiting.front().second);
    alive->waiting.pop_front();
    next(take_slot(alive));
  });
}

std::optional<std::shared_ptr<void>> JobQueue::enqueue(Start start) {
  std::weak_ptr<State> weak = state_;
  if (state_->running < state_->limit && state_->waiting.empty()) {
    start(take_slot(state_));
    return std::shared_ptr<void>();
  }
  if (state_->waiting.size() >= state_->max_waiting) return std::nullopt;
  std::uint64_t id = state_->next_id++;
  state_->waiting.emplace_back(id, std::move(start));
  return std::shared_ptr<void>(nullptr, [weak, id](void*) {
    auto alive = weak.lock();
    if (!alive) return;
    auto& waiting = alive->waiting;
    waiting.erase(std::remove_if(waiting.begin(), waiting.end(), [id](const auto& entry) { return entry.first == id; }),
                  waiting.end());
  });
}

}  // namespace wubd::restreamer
