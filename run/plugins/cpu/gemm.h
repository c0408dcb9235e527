// Gemm thunks on the CPU: OpenBLAS, single-threaded per call, with the products of a batch, or
// else the rows (or, when there are more columns, the columns) of each product, split over
// the device's oneTBB arena (its share of the cores).
#pragma once

#include <cstddef>

#include <tbb/task_arena.h>

#include "format/thunks.h"

namespace pjit {

// Makes OpenBLAS single-threaded: parallelism comes from the devices and their arenas.
void InitGemm();

// lhs, rhs and out: where the thunk's three slices are.
void RunGemm(const GemmThunk& g, const std::byte* lhs, const std::byte* rhs, std::byte* out, tbb::task_arena& cores);

}  // namespace pjit
