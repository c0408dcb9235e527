// The shape each opcode produces from its operands and attributes (XLA's ShapeInference).
// Where the text fixes something no operand implies (the element type of convert, the dims
// of broadcast/reshape/iota...), the instruction's declared shape supplies it and the rest
// is checked against the operands.
#pragma once

#include "format/hlo_instruction.h"
#include "format/status.h"

namespace pjit {

// Errors say what is wrong without the instruction's name; VerifyModule adds it.
StatusOr<Shape> InferShape(const Instruction& instr);

}  // namespace pjit
