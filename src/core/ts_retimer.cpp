#include "wubd/core/ts_retimer.h"

#include <algorithm>
#include <limits>

namespace wubd::core {
namespace {

constexpr std::size_t kPacket = 188;
constexpr std::int64_t kWrap = std::int64_t(1) << 33;  // PTS, DTS and the PCR base are 33 bits

using Byte = unsigned char;

// Where a packet's PES header timestamps are, if it starts a PES that has them.
struct PesStamps {
  int pts_at = -1;  // offset of the 5-byte PTS field in the packet
  int dts_at = -1;
};

int payload_start(const Byte* p) {
  bool adaptation = p[3] & 0x20;
  int at = adaptation ? 5 + p[4] : 4;
  return at < int(kPacket) ? at : -1;
}

PesStamps pes_stamps(const Byte* p) {
  PesStamps stamps;
  bool unit_start = p[1] & 0x40;
  bool payload = p[3] & 0x10;
  int at = payload_start(p);
  if (!unit_start || !payload || at < 0 || at + 14 > int(kPacket)) return stamps;
  const Byte* pes = p + at;
  if (pes[0] != 0 || pes[1] != 0 || pes[2] != 1) return stamps;  // a table, not a PES
  Byte stream_id = pes[3];
  // Streams without the optional PES header (padding, private 2, ECM, EMM, ...).
  if (stream_id == 0xBC || stream_id == 0xBE || stream_id == 0xBF || stream_id == 0xF0 || stream_id == 0xF1 ||
      stream_id == 0xFF || stream_id == 0xF2 || stream_id == 0xF8) {
    return stamps;
  }
  if ((pes[6] & 0xC0) != 0x80) return stamps;  // not an MPEG-2 PES header
  int flags = pes[7] >> 6;
  if (flags & 2) stamps.pts_at = at + 9;
  if (flags == 3 && at + 19 <= int(kPacket)) stamps.dts_at = at + 14;
  return stamps;
}

std::int64_t read_stamp(const Byte* f) {
  return (std::int64_t(f[0] >> 1 & 0x07) << 30) | (std::int64_t(f[1]) << 22) | (std::int64_t(f[2] >> 1) << 15) |
         (std::int64_t(f[3]) << 7) | std::int64_t(f[4] >> 1);
}

// Keeps the 4-bit prefix and the marker bits; replaces the 33-bit value.
void write_stamp(Byte* f, std::int64_t value) {
  value = ((value % kWrap) + kWrap) % kWrap;
  f[0] = Byte((f[0] & 0xF0) | ((value >> 29) & 0x0E) | 1);
  f[1] = Byte(value >> 22);
  f[2] = Byte(((value >> 14) & 0xFE) | 1);
  f[3] = Byte(value >> 7);
  f[4] = Byte(((value << 1) & 0xFE) | 1);
}

// The PCR's offset in the packet, or -1.
int pcr_at(const Byte* p) {
  if (!(p[3] & 0x20) || p[4] < 7) return -1;
  return (p[5] & 0x10) ? 6 : -1;
}

std::int64_t read_pcr_base(const Byte* f) {
  return (std::int64_t(f[0]) << 25) | (std::int64_t(f[1]) << 17) | (std::int64_t(f[2]) << 9) |
         (std::int64_t(f[3]) << 1) | std::int64_t(f[4] >> 7);
}

void write_pcr_base(Byte* f, std::int64_t value) {
  value = ((value % kWrap) + kWrap) % kWrap;
  f[0] = Byte(value >> 25);
  f[1] = Byte(value >> 17);
  f[2] = Byte(value >> 9);
  f[3] = Byte(value >> 1);
  f[4] = Byte((f[4] & 0x7F) | ((value & 1) << 7));
}

int pid_of(const Byte* p) { return ((p[1] & 0x1F) << 8) | p[2]; }

}  // namespace

std::string shift_timestamps(std::string_view packets, std::int64_t ticks) {
  std::string out(packets);
  for (std::size_t at = 0; at + kPacket <= out.size(); at += kPacket) {
    Byte* p = reinterpret_cast<Byte*>(out.data() + at);
    if (p[0] != 0x47) continue;
    if (int pcr = pcr_at(p); pcr >= 0) write_pcr_base(p + pcr, read_pcr_base(p + pcr) + ticks);
    PesStamps stamps = pes_stamps(p);
    if (stamps.pts_at >= 0) write_stamp(p + stamps.pts_at, read_stamp(p + stamps.pts_at) + ticks);
    if (stamps.dts_at >= 0) write_stamp(p + stamps.dts_at, read_stamp(p + stamps.dts_at) + ticks);
  }
  return out;
}

std::int64_t TsRetimer::unwrap(std::int64_t raw) {
  if (!have_base_) {
    base_ = raw;
    have_base_ = true;
  }
  // The nearest value to the part's first timestamp: parts are minutes, not 26 hours.
  std::int64_t delta = ((raw - base_) % kWrap + kWrap) % kWrap;
  if (delta >= kWrap / 2) delta -= kWrap;
  return base_ + delta;
}

std::string TsRetimer::begin_part() {
  std::string out = held_.empty() ? std::string() : settle();
  part_started_ = true;
  part_first_.clear();
  have_base_ = false;
  return out;
}

void TsRetimer::note_first(const char* packet) {
  const Byte* p = reinterpret_cast<const Byte*>(packet);
  if (p[0] != 0x47) return;
  PesStamps stamps = pes_stamps(p);
  int at = stamps.dts_at >= 0 ? stamps.dts_at : stamps.pts_at;
  if (at < 0) return;
  part_first_.emplace(pid_of(p), unwrap(read_stamp(p + at)));  // keeps the first
}

std::string TsRetimer::settle() {
  // Each stream must start a step after it ended; the one that needs the most shift
  // decides. Streams new in this part (another muxer's PIDs) follow the latest end.
  offset_ = 0;
  if (!streams_.empty() && !part_first_.empty()) {
    std::int64_t latest_end = std::numeric_limits<std::int64_t>::min();
    for (const auto& [pid, clock] : streams_) latest_end = std::max(latest_end, clock.last_dts + clock.step);
    bool first = true;
    for (const auto& [pid, first_dts] : part_first_) {
      auto it = streams_.find(pid);
      std::int64_t end = it != streams_.end() ? it->second.last_dts + it->second.step : latest_end;
      offset_ = first ? end - first_dts : std::max(offset_, end - first_dts);
      first = false;
    }
  }
  part_started_ = false;
  std::string out = std::move(held_);
  held_.clear();
  for (std::size_t at = 0; at + kPacket <= out.size(); at += kPacket) rewrite(out.data() + at);
  return out;
}

void TsRetimer::rewrite(char* packet) {
  Byte* p = reinterpret_cast<Byte*>(packet);
  if (p[0] != 0x47) return;
  if (int at = pcr_at(p); at >= 0) write_pcr_base(p + at, unwrap(read_pcr_base(p + at)) + offset_);
  PesStamps stamps = pes_stamps(p);
  if (stamps.pts_at < 0) return;
  std::int64_t pts = unwrap(read_stamp(p + stamps.pts_at)) + offset_;
  write_stamp(p + stamps.pts_at, pts);
  std::int64_t dts = pts;
  if (stamps.dts_at >= 0) {
    dts = unwrap(read_stamp(p + stamps.dts_at)) + offset_;
    write_stamp(p + stamps.dts_at, dts);
  }
  StreamClock& clock = streams_[pid_of(p)];
  if (clock.seen && dts > clock.last_dts) clock.step = dts - clock.last_dts;
  clock.last_dts = dts;
  clock.seen = true;
}

std::string TsRetimer::feed(std::string_view bytes) {
  pending_.append(bytes);
  std::size_t whole = pending_.size() / kPacket * kPacket;
  std::string out;
  if (!part_started_) {
    out.assign(pending_, 0, whole);
    for (std::size_t at = 0; at < whole; at += kPacket) rewrite(out.data() + at);
  } else {
    for (std::size_t at = 0; at < whole; at += kPacket) note_first(pending_.data() + at);
    held_.append(pending_, 0, whole);
    bool every_stream = !streams_.empty() && std::all_of(streams_.begin(), streams_.end(),
                                                         [&](const auto& s) { return part_first_.count(s.first) > 0; });
    if (streams_.empty() || every_stream || held_.size() >= kMaxHeldBytes) out = settle();
  }
  pending_.erase(0, whole);
  return out;
}

std::string TsRetimer::finish() {
  pending_.clear();
  return held_.empty() ? std::string() : settle();
}

}  // namespace wubd::core
