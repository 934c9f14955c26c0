#pragma once

// A cut running ffmpeg children; the restreamer owns it until finished() and then
// frees it from a timer, never inside one of its callbacks.
namespace wubd::restreamer {

class CutJob {
 public:
  virtual ~CutJob() = default;
  virtual bool finished() const = 0;
};

}  // namespace wubd::restreamer
