#pragma once

#include <cstddef>
#include <memory>
#include <utility>

namespace wubd::restreamer {

// How many cuts run, for --max-full-cuts and the wubd_cuts_active gauge. A cut holds
// a slot from the moment it is admitted until its body is destroyed. The count is
// shared with the slots, so a body freed after the restreamer is still counted right.
class CutSlots {
 public:
  class Slot {
   public:
    explicit Slot(std::shared_ptr<std::size_t> count) : count_(std::move(count)) { ++*count_; }
    ~Slot() {
      if (count_) --*count_;
    }
    Slot(Slot&& other) noexcept = default;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    Slot& operator=(Slot&&) = delete;

   private:
    std::shared_ptr<std::size_t> count_;
  };

  Slot take() { return Slot(count_); }
  std::size_t running() const { return *count_; }

 private:
  std::shared_ptr<std::size_t> count_ = std::make_shared<std::size_t>(0);
};

}  // namespace wubd::restreamer
