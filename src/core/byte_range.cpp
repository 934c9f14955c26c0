#include "wubd/core/byte_range.h"

#include <charconv>

namespace wubd::core {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A non-empty run of digits and nothing else.
std::optional<std::int64_t> parse_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace

RangeDecision decide_range(std::optional<std::string_view> header, std::int64_t size) {
  RangeDecision whole;
  if (!header) return whole;
  std::string_view spec = trim(*header);
  constexpr std::string_view kUnit = "bytes=";
  if (spec.substr(0, kUnit.size()) != kUnit) return whole;
  spec = trim(spec.substr(kUnit.size()));
  if (spec.find(',') != std::string_view::npos) return whole;  // multipart: not offered
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  std::string_view first_text = trim(spec.substr(0, dash));
  std::string_view last_text = trim(spec.substr(dash + 1));

  RangeDecision unsatisfiable{RangeOutcome::Unsatisfiable, {}};
  if (first_text.empty()) {
    // A suffix range: the last N bytes.
    auto suffix = parse_number(last_text);
    if (!suffix) return whole;
    if (*suffix == 0 || size == 0) return unsatisfiable;
    std::int64_t n = *suffix < size ? *suffix : size;
    return {RangeOutcome::Partial, {size - n, size - 1}};
  }
  auto first = parse_number(first_text);
  if (!first) return whole;
  std::int64_t last = size - 1;
  if (!last_text.empty()) {
    auto parsed = parse_number(last_text);
    if (!parsed || *parsed < *first) return whole;
    if (*parsed < last) last = *parsed;
  }
  if (*first >= size) return unsatisfiable;
  return {RangeOutcome::Partial, {*first, last}};
}

}  // namespace wubd::core
