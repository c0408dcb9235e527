// Constant folding on the entry: an elementwise op (unary, binary, compare, convert, select,
// clamp) whose operands are all constants becomes the constant it computes — with the
// interpreter's own kernels (format/elementwise_eval), so the folded bits are the ones the
// unfolded program gives. Results over 65536 elements stay unfolded (they would grow the
// artifact, and a kernel makes them as fast).
#pragma once

#include <cstdint>

#include "format/hlo_module.h"

namespace pjit {

// The number of instructions folded (each becomes a constant in place).
int64_t FoldConstants(Computation& computation);

}  // namespace pjit
