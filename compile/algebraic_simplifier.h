// Algebraic simplification on the entry, with exact rewrites only (the result is the same
// bits for every input, so the compiled program still matches the unpartitioned one and the
// interpreter exactly): x+0 (integers; -0.0 for floats), x-0, x*1, x/1, -(-x), and ops that
// do nothing — identity transposes, reshapes, converts and broadcasts, full slices, pads of
// nothing, single-operand concatenations, reverses of no dim, copies — and reshapes of
// reshapes read their first operand directly.
#pragma once

#include <cstdint>

#include "format/hlo_module.h"

namespace pjit {

// The number of rewrites (replaced instructions stay, unused, for EliminateDeadCode).
int64_t SimplifyAlgebra(Computation& computation);

}  // namespace pjit
