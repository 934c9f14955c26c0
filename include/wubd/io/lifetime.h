#pragma once

#include <memory>
#include <utility>

#include <uv.h>

// Who frees what, and when: one rule for the whole daemon. Read this first.
//
//  1. Everything libuv, curl, a child process or the threadpool can call back into
//     has exactly one owner, which holds it by value or by std::unique_ptr. Nothing
//     that receives callbacks is shared, and no service keeps "is it still alive?"
//     flags or weak_ptr tokens: the three tools below answer that question.
//  2. A uv handle lives in an io::UvHandle<T> (uv_handle.h). Destroying it closes the
//     handle; libuv may still use the memory until the close callback, so that is where
//     it is freed (as libuv's docs and Node's HandleWrap do). A callback libuv still
//     delivers after the close (a write it cancels) finds no owner and does nothing.
//     A uv request (a write, a shutdown) is an io::UvRequest (uv_request.h): made for
//     one submission, libuv's until its callback, freed there; its callback finds the
//     handle's owner, or nothing, through the handle's data. No raw new or delete of
//     a uv type outside these two files and lifetime.cpp.
//  3. An object is never destroyed inside one of its own callbacks. An owner that must
//     let go of a child from inside that child's callback hands it to defer_delete():
//     it is freed on the next turn of the loop, once every callback on the stack has
//     returned (Redis's freeClientAsync, Node's "may delete this").
//  4. Work off the loop (libuv's threadpool: file reads, probes, encoding) is started
//     through an io::TaskGroup (task_group.h) owned by whoever wants the result. The
//     work holds what it touches by value or shared_ptr; destroying the group means its
//     results are dropped, while the work finishes on its own and frees itself.
//  5. Data handed across calls owns itself: a looked-up segment (core::SegmentRef,
//     best_segments.h) keeps its hour's listing alive; hold the SegmentRef, never a
//     copy of the StoredSegment (its strings are views into that listing).
//
// Named exceptions, each for a reason:
//  A. "The last thing it does": a leaf that calls its owner back as its very last act
//     (TaskGroup's `done`, FileWriter's `done`, Timer's callback) lets that callback
//     destroy it. It first moves what the call needs onto the stack (the task, the
//     callback, the result) and touches nothing of itself after; it has no children
//     whose frames are below it. Each such call says "may destroy" where it is made.
//     Anything with more on the stack than that uses defer_delete (rule 3).
//  B. Claims as tokens: a std::shared_ptr<void> that owns nothing and whose deleter
//     gives a claim back (RangeHolds::hold_while_cutting, JobQueue's slots and places
//     in line, CutCache's places, CutSlots::Slot's count), kept by whoever holds the
//     claim, often a response body via HttpResponse::keep_while_sending. They receive
//     no callbacks from libuv, curl or the threadpool: they are released, once, when
//     their holder goes, which may be after the issuer (a body still sending while
//     the daemon stops). So the deleter holds a weak_ptr to the issuer's state (or a
//     shared count), and a release after the issuer is gone does nothing. Rule 1's
//     "no weak_ptr tokens" is about things that are called back, which these are not.
namespace wubd::io {

namespace detail {
// Queues `destroy(object)` for the next turn of `loop`.
void defer(uv_loop_t* loop, void* object, void (*destroy)(void*));
}  // namespace detail

// Frees `object` on the next turn of `loop` (rule 3). Objects queued on one turn are
// freed in the order they were queued; one queued by a destructor run from the queue
// waits for the turn after. The queue keeps the loop running until it is empty.
template <typename T>
void defer_delete(uv_loop_t* loop, std::unique_ptr<T> object) {
  if (!object) return;
  detail::defer(loop, object.release(), [](void* p) { delete static_cast<T*>(p); });
}

// Objects waiting in `loop`'s deferred-delete queue (for tests and shutdown checks).
std::size_t deferred_deletes(uv_loop_t* loop);

}  // namespace wubd::io
