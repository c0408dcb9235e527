// Common-subexpression elimination on the entry: an instruction that computes exactly what
// an earlier one computes (same opcode, operands, shape and attributes; no side effects, no
// randomness) is replaced by the earlier one. JAX programs repeat broadcasts, constants and
// reshapes per use; after partitioning, so do the shard offsets of several arrays.
#pragma once

#include <cstdint>

#include "format/hlo_module.h"

namespace pjit {

// The number of instructions replaced (they stay, unused, for EliminateDeadCode).
int64_t EliminateCommonSubexpressions(Computation& computation);

}  // namespace pjit
