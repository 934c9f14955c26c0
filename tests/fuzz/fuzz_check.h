#pragma once

#include <cstdio>
#include <cstdlib>

// An invariant a fuzz target checks: on failure it prints what broke and aborts, so
// libFuzzer keeps the input as a crasher and the corpus replay fails on it.
#define FUZZ_CHECK(condition, what)                                                      \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      std::fprintf(stderr, "invariant broken at %s:%d: %s\n", __FILE__, __LINE__, what); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)
