#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

// Joins MPEG-TS parts back to back with timestamps that keep rising: each part's
// PTS, DTS and PCR are shifted so that it continues where the part before it ended,
// as if the parts had been recorded one after the other. The fast cut uses it for
// what comes after a hole or a later range, whose source timestamps jump (forward
// across a hole, backward for a range earlier in time than the one before).
//
// Works on whole 188-byte packets and rewrites only timestamp fields; packets it does
// not understand pass unchanged. Pure bytes in, bytes out: no I/O.
namespace wubd::core {

class TsRetimer {
 public:
  // The bytes fed next begin a new part. Its shift is chosen when its first decode
  // times are known: every stream's first one lands a frame after that stream's last
  // one (the stream that needs the most decides, the others keep their offsets to it).
  // The first part keeps its own timestamps. Returns what the part before still held.
  std::string begin_part();

  // Takes bytes of the current part and returns the bytes to send: whole packets,
  // rewritten. The first packets of a part are held back until its shift is known
  // (every stream seen so far has shown its first timestamp in it, or kMaxHeldBytes).
  std::string feed(std::string_view bytes);

  // Returns whatever is still held (the end of the clip). A trailing partial packet
  // is dropped.
  std::string finish();

  static constexpr std::size_t kMaxHeldBytes = 4 << 20;

 private:
  struct StreamClock {
    std::int64_t last_dts = 0;  // output timeline, unwrapped, 90 kHz
    std::int64_t step = 3000;   // the last difference between decode times (a frame)
    bool seen = false;
  };

  // Chooses the part's shift from its first decode times and rewrites what was held.
  std::string settle();
  void rewrite(char* packet);
  // Notes the first decode time of each stream in a held packet.
  void note_first(const char* packet);
  std::int64_t unwrap(std::int64_t raw);

  std::map<int, StreamClock> streams_;      // by PID
  std::map<int, std::int64_t> part_first_;  // PID -> first decode time in this part (unwrapped)
  std::string pending_;                     // a packet's start, not yet whole
  std::string held_;                        // whole packets of a part whose shift is unknown
  bool part_started_ = false;               // a part began; its shift is not settled
  bool have_base_ = false;
  std::int64_t base_ = 0;    // the part's first raw timestamp: unwrapping reference
  std::int64_t offset_ = 0;  // added to this part's unwrapped timestamps
};

// Every PTS, DTS and PCR of whole 188-byte MPEG-TS packets moved by `ticks` (90 kHz,
// modulo 2^33); other bytes as they are. The fake origin uses it to play its looped
// segments on as one continuous stream.
std::string shift_timestamps(std::string_view packets, std::int64_t ticks);

}  // namespace wubd::core
