// Layout normalisation: pjit computes every array row-major, whatever layout ({1,0}, {0,1},
// ...) the input text gives it. Layouts change what a program computes only through bitcast,
// which reads its operand's bytes in memory order as its result's memory order; so each
// bitcast whose operand or result is not row-major becomes a transpose of the operand into its
// memory order, a reshape, and a transpose from the result's memory order (identity
// transposes are dropped), and then every layout of the module is cleared. Run before
// sharding propagation, so that the partitioner sees only layout-free ops.
#pragma once

#include <cstdint>

#include "format/hlo_module.h"

namespace pjit {

// The number of bitcasts rewritten (they stay, unused, for dead code elimination).
int64_t NormalizeLayouts(Module& module);

}  // namespace pjit
