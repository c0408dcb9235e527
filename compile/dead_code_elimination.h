// Removes entry instructions whose value nothing needs: not the root, not reached from it
// through operands, and without side effects (parameters always stay: they are the
// program's signature). Run after the passes that leave unused instructions behind.
#pragma once

#include <cstdint>

#include "format/hlo_module.h"

namespace pjit {

// The number of instructions removed.
int64_t EliminateDeadCode(Computation& computation);

}  // namespace pjit
