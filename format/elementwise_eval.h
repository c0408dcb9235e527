// HLO's elementwise ops over whole arrays (unary and binary ops, compare, convert, select,
// clamp), with the scalar semantics of format/elementwise.h: the reference interpreter's
// kernels for them, and what constant folding computes at compile time, so that a folded
// constant holds exactly the bits the interpreter would compute.
#pragma once

#include <vector>

#include "format/hlo_instruction.h"
#include "format/literal.h"
#include "format/status.h"

namespace pjit {

// Whether EvaluateElementwise computes `op`.
bool IsElementwiseEvaluable(Opcode op);

// `in` (of an opcode IsElementwiseEvaluable takes) applied to its operands' values.
Literal EvaluateElementwise(const Instruction& in, const std::vector<const Literal*>& operands);

}  // namespace pjit
