#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wubd/core/result.h"
#include "wubd/core/time.h"

// Transitions between the ranges of a cut (`/cut?range=A&range=B&transition=fade,0.5`):
// the names wubloader accepts (ffmpeg's xfade transitions it lists, and its custom
// ones), each becoming ffmpeg's `xfade` for the video and `acrossfade` for the audio.
// A transition of D seconds overlaps the last D seconds of one range with the first
// D seconds of the next, so the clip is shorter by D.
namespace wubd::core {

struct Transition {
  std::string type;  // "fade", "wipeleft", "clockwipe", …
  Micros duration = 0;
};

// The names, known (xfade's own) and custom (an xfade expression), for error texts
// and the README.
const std::vector<std::string_view>& transition_names();

// One `transition` parameter: "" is a hard cut (nullopt); otherwise "TYPE,DURATION",
// TYPE a known name, DURATION seconds (> 0, at most an hour). Errors are 400s saying
// what was wrong (an unknown type names the known ones).
Result<std::optional<Transition>> parse_transition(std::string_view text);

// xfade's options for a transition starting `offset` into its first input:
// `transition=fade:duration=0.5:offset=12.25`, or for a custom one
// `transition=custom:expr='…':duration=…`. The expressions are wubd's own drawings of
// wubloader's custom transitions (a clock hand's sweep, a growing diamond, star and
// bat), over xfade's X, Y, W, H, A (the old picture), B (the new) and P (1 → 0).
std::string xfade_options(const Transition& transition, Micros offset);

}  // namespace wubd::core
