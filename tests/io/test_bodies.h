#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "wubd/io/http_body.h"
#include "wubd/io/timer.h"

namespace wubd::io {

// A body that answers `after_ms` later through `answer(out)` (its timer lives and dies
// with the body), and runs `on_stop` if the client leaves first.
inline std::unique_ptr<HttpBody> answer_later(uv_loop_t* loop, std::uint64_t after_ms,
                                              std::function<void(BodyWriter&)> answer,
                                              std::function<void()> on_stop = {}) {
  auto timer = std::make_shared<Timer>(loop);
  return make_body({[timer, after_ms, answer = std::move(answer)](BodyWriter& out) {
                      timer->start(after_ms, [answer, &out] { answer(out); });
                    },
                    {},
                    std::move(on_stop),
                    false});
}

}  // namespace wubd::io
