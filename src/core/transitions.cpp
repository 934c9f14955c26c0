#include "wubd/core/transitions.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "wubd/core/cut_plan.h"

namespace wubd::core {
namespace {

// ffmpeg 5.1's xfade transitions that wubloader offers, by the same names.
constexpr std::string_view kXfade[] = {
    "fade",       "fadeblack",   "fadewhite", "fadegrays",  "wipeleft",   "wiperight",   "wipeup",   "wipedown",
    "slideleft",  "slideright",  "slideup",   "slidedown",  "circlecrop", "rectcrop",    "distance", "radial",
    "smoothleft", "smoothright", "smoothup",  "smoothdown", "circleopen", "circleclose", "vertopen", "vertclose",
    "horzopen",   "horzclose",   "dissolve",  "pixelize",   "diagtl",     "diagtr",      "diagbl",   "diagbr",
    "hlslice",    "hrslice",     "vuslice",   "vdslice",    "hblur",      "wipetl",      "wipetr",   "wipebl",
    "wipebr",     "squeezeh",    "squeezev",  "zoomin",
};

// xfade's custom expressions: the value of the pixel at X, Y is A (the old picture's)
// or B (the new one's); P runs from 1 at the transition's start to 0 at its end, so
// Q = 1 - P is how far it has come. wubd's own drawings of wubloader's custom
// transitions, and of the jagged "wind" wipes ffmpeg 7 added (Debian 12's ffmpeg 5.1
// lacks them). Written in single quotes in the graph, which protect their commas.
constexpr std::pair<std::string_view, std::string_view> kCustom[] = {
    // A clock hand from 12 o'clock, clockwise: B where the hand has passed.
    {"clockwipe", "if(lt(mod(atan2(X-W/2,H/2-Y)+2*PI,2*PI)/(2*PI),1-P),B,A)"},
    // A diamond growing from the centre to the corners.
    {"diamondwipe", "if(lt(abs(X-W/2)/W+abs(Y-H/2)/H,1-P),B,A)"},
    // A five-pointed star growing from the centre, a point up: its edge runs straight
    // from an outer point (radius R) to an inner one (0.382 R: a regular pentagram),
    // in polar terms R 0.382 sin 36° / (sin F + 0.382 sin(36° - F)) at F from the
    // nearest point. R grows to 2.8 half-diagonals, so the inner corners pass the
    // picture's corners by the end.
    {"starwipe",
     "if(lt(hypot(X-W/2,Y-H/2)/hypot(W/2,H/2),2.8*(1-P)*0.382*sin(PI/5)/"
     "(sin(min(mod(atan2(X-W/2,H/2-Y)+2*PI,2*PI/5),2*PI/5-mod(atan2(X-W/2,H/2-Y)+2*PI,2*PI/5)))+0.382*sin(PI/"
     "5-min(mod(atan2(X-W/2,H/2-Y)+2*PI,2*PI/5),2*PI/5-mod(atan2(X-W/2,H/2-Y)+2*PI,2*PI/5))))),B,A)"},
    // A bat growing from the centre: wings (an ellipse) with two scallops bitten out of
    // their lower edge and one under the head, and two ears above it. U and V are the
    // pixel's place in the bat's own units (written out: xfade's threads would share
    // st()'s variables).
    {"batman",
     "if(lt(((X-W/2)/(W*3.2*(1-P)+1))*((X-W/2)/(W*3.2*(1-P)+1))/0.25+((Y-H/2)/(H*3.2*(1-P)+1))*((Y-H/2)/"
     "(H*3.2*(1-P)+1))/0.09,1)*gt(hypot(abs(((X-W/2)/(W*3.2*(1-P)+1)))-0.2,((Y-H/2)/"
     "(H*3.2*(1-P)+1))-0.3),0.12)*gt(hypot(((X-W/2)/(W*3.2*(1-P)+1)),((Y-H/2)/(H*3.2*(1-P)+1))-0.36),0.1)"
     "+lt(abs(abs(((X-W/2)/(W*3.2*(1-P)+1)))-0.05),0.03)*between(((Y-H/2)/(H*3.2*(1-P)+1)),-0.42,-0.2),B,A)"},
    // Wipes whose edge is jagged row by row (or column by column): a pseudo-random
    // offset of up to a tenth of the picture per line.
    {"hlwind", "if(lt(X,W*(1.2*(1-P)-0.1*mod(abs(sin(Y*12.9898)*43758.5453),1))),B,A)"},
    {"hrwind", "if(gt(X,W*(1-1.2*(1-P)+0.1*mod(abs(sin(Y*12.9898)*43758.5453),1))),B,A)"},
    {"vuwind", "if(gt(Y,H*(1-1.2*(1-P)+0.1*mod(abs(sin(X*12.9898)*43758.5453),1))),B,A)"},
    {"vdwind", "if(lt(Y,H*(1.2*(1-P)-0.1*mod(abs(sin(X*12.9898)*43758.5453),1))),B,A)"},
};

// wubloader names these too, but they move the pictures, which an expression of one
// pixel's A and B cannot: xfade has them from ffmpeg 7.0.
constexpr std::string_view kNeedsNewerFfmpeg[] = {"coverleft",  "coverright",  "coverup",  "coverdown",
                                                  "revealleft", "revealright", "revealup", "revealdown"};

std::string list_names() {
  std::string out;
  for (std::string_view name : transition_names()) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

const std::vector<std::string_view>& transition_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> all(std::begin(kXfade), std::end(kXfade));
    for (const auto& [name, expression] : kCustom) all.push_back(name);
    return all;
  }();
  return names;
}

Result<std::optional<Transition>> parse_transition(std::string_view text) {
  if (text.empty()) return std::optional<Transition>();
  std::size_t comma = text.find(',');
  if (comma == std::string_view::npos) {
    return make_error("Bad transition \"" + std::string(text) + "\": expected TYPE,DURATION (or \"\" for a hard cut)",
                      400);
  }
  std::string type(text.substr(0, comma));
  std::string_view seconds = text.substr(comma + 1);
  const auto& names = transition_names();
  if (std::find(names.begin(), names.end(), type) == names.end()) {
    if (std::find(std::begin(kNeedsNewerFfmpeg), std::end(kNeedsNewerFfmpeg), type) != std::end(kNeedsNewerFfmpeg)) {
      return make_error(
          "Transition \"" + type + "\" needs ffmpeg 7's xfade, and this one is older; known: " + list_names(), 400);
    }
    return make_error("Unknown transition \"" + type + "\"; known: " + list_names(), 400);
  }
  auto duration = parse_duration(seconds);
  if (!duration || *duration <= 0 || *duration > kMicrosPerHour) {
    return make_error(
        "Bad transition duration \"" + std::string(seconds) + "\": a number of seconds greater than 0 and at most 3600",
        400);
  }
  return std::optional<Transition>(Transition{type, *duration});
}

std::string xfade_options(const Transition& transition, Micros offset) {
  std::string out;
  auto custom = std::find_if(std::begin(kCustom), std::end(kCustom),
                             [&](const auto& entry) { return entry.first == transition.type; });
  if (custom != std::end(kCustom)) {
    out = "transition=custom:expr='" + std::string(custom->second) + "'";
  } else {
    out = "transition=" + transition.type;
  }
  out += ":duration=" + ffmpeg_seconds(transition.duration) + ":offset=" + ffmpeg_seconds(offset);
  return out;
}

}  // namespace wubd::core
