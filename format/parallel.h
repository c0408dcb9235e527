// Fork-join for the compiler's and the cpu platform's parallel loops: parts 0..n-1 of a job
// run on oneTBB (inside `arena` when given: a device's share of the cores) and the call returns
// when all are done. In TSan builds (PJIT_TSAN) the parts run on plain threads instead:
// Debian's oneTBB is not instrumented, so TSan cannot see its hand-offs and would report each
// one as a race, hiding real ones; on plain threads it checks the parts' own accesses.
#pragma once

#include <cstdint>
#include <thread>
#include <vector>

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

namespace pjit {

template <typename Body>
void ParallelParts(int64_t parts, tbb::task_arena* arena, const Body& body) {
  if (parts <= 1) {
    if (parts == 1) body(int64_t{0});
    return;
  }
#ifdef PJIT_TSAN
  (void)arena;
  std::vector<std::thread> threads;
  for (int64_t p = 1; p < parts; ++p) threads.emplace_back([&body, p] { body(p); });
  body(int64_t{0});
  for (std::thread& t : threads) t.join();
#else
  auto run = [&] { tbb::parallel_for(int64_t{0}, parts, [&](int64_t p) { body(p); }); };
  if (arena) arena->execute(run);
  else run();
#endif
}

}  // namespace pjit
