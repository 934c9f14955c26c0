#include "wubd/core/byte_range.h"

#include <gtest/gtest.h>

namespace wubd::core {
namespace byte_range_test {

TEST(ByteRange, Table) {
  struct Case {
    const char* header;  // nullptr: no header
    std::int64_t size;
    RangeOutcome outcome;
    std::int64_t first;
    std::int64_t last;
  };
  const Case cases[] = {
      {nullptr, 100, RangeOutcome::Whole, 0, 0},
      {"bytes=0-9", 100, RangeOutcome::Partial, 0, 9},
      {"bytes=10-", 100, RangeOutcome::Partial, 10, 99},
      {"bytes=-10", 100, RangeOutcome::Partial, 90, 99},
      {"bytes=-1000", 100, RangeOutcome::Partial, 0, 99},
      {"bytes=90-1000", 100, RangeOutcome::Partial, 90, 99},
      {"bytes=99-99", 100, RangeOutcome::Partial, 99, 99},
      {" bytes=5-6 ", 100, RangeOutcome::Partial, 5, 6},
      {"bytes=100-", 100, RangeOutcome::Unsatisfiable, 0, 0},
      {"bytes=100-200", 100, RangeOutcome::Unsatisfiable, 0, 0},
      {"bytes=-0", 100, RangeOutcome::Unsatisfiable, 0, 0},
      {"bytes=0-", 0, RangeOutcome::Unsatisfiable, 0, 0},
      {"bytes=-5", 0, RangeOutcome::Unsatisfiable, 0, 0},
      {"bytes=9-0", 100, RangeOutcome::Whole, 0, 0},
      {"bytes=0-1,5-6", 100, RangeOutcome::Whole, 0, 0},
      {"items=0-1", 100, RangeOutcome::Whole, 0, 0},
      {"bytes=a-b", 100, RangeOutcome::Whole, 0, 0},
      {"bytes=", 100, RangeOutcome::Whole, 0, 0},
      {"bytes=-", 100, RangeOutcome::Whole, 0, 0},
      {"bytes=--5", 100, RangeOutcome::Whole, 0, 0},
  };
  for (const Case& c : cases) {
    std::optional<std::string_view> header;
    if (c.header) header = c.header;
    RangeDecision d = decide_range(header, c.size);
    const char* shown = c.header ? c.header : "(none)";
    EXPECT_EQ(d.outcome, c.outcome) << shown;
    if (c.outcome == RangeOutcome::Partial) {
      EXPECT_EQ(d.range.first, c.first) << shown;
      EXPECT_EQ(d.range.last, c.last) << shown;
      EXPECT_EQ(d.range.length(), c.last - c.first + 1);
    }
  }
}

}  // namespace byte_range_test
}  // namespace wubd::core
