#pragma once

#include <optional>
#include <random>
#include <string>
#include <vector>

// Fault injection for the fake origin: `CLASS:KIND[:key=value…]`, where CLASS is
// master, media, segment, gql or any, and KIND one of
//   status   (code=503)            answer with that status instead
//   delay    (seconds=10)          wait before sending headers
//   stall    (seconds=10)          send half the body, wait, send the rest
//   reset                          send half a chunked body, then close
//   truncate                       promise the whole length, send half, close
//   stale    (seconds=10)          media: the playlist as it was that long ago
//   garbage                        200 with a body that is not a playlist
//   empty                          200 with an empty body
// and keys p (probability, default 1), n (at most that many times), after and
// until (seconds since start), variant (only that variant), repeat (segment: only a
// request for a segment already asked for, which in a run without other faults is a
// downloader's racing or retried attempt).
namespace wubd::fake_origin {

struct Fault {
  std::string klass;
  std::string kind;
  int code = 503;
  double seconds = 10;
  double probability = 1;
  long max_count = -1;
  double after_s = 0;
  double until_s = -1;
  std::string variant;
  bool repeat_only = false;
  long fired = 0;
  std::string spec;  // as given, for the served log
};

// Parses one --fault; the error says what was wrong.
std::optional<Fault> parse_fault(const std::string& spec, std::string& error);

// The first fault of `faults` that applies to a request of `klass` for `variant`
// at `elapsed_s` since start (`repeat`: for a segment asked for before), counted as
// fired; nullptr if none.
Fault* pick_fault(std::vector<Fault>& faults, const std::string& klass, const std::string& variant, double elapsed_s,
                  std::mt19937_64& random, bool repeat = false);

}  // namespace wubd::fake_origin
