#include "compile/algebraic_simplifier.h"

#include <cmath>
#include <numeric>
#include <optional>

#include "compile/instruction_rewrite.h"

namespace pjit {
namespace {

// The value of a scalar constant, or of a broadcast of one.
std::optional<double> SplatValue(const Instruction* in) {
  if (in->opcode == Opcode::kBroadcast && in->operands[0]->shape.rank() == 0) in = in->operands[0];
  if (in->opcode != Opcode::kConstant || !in->shape.IsArray() || in->shape.rank() != 0) return std::nullopt;
  return in->literal.GetAsDouble(0);
}

bool Is(const Instruction* in, double v, bool negative_zero = false) {
  std::optional<double> x = SplatValue(in);
  return x && *x == v && (v != 0 || std::signbit(*x) == negative_zero);
}

// The neutral element of `in` on the side `i` (x + 0, 0 + x, x - 0, x * 1, 1 * x, x / 1).
bool IsNeutral(const Instruction& in, size_t i) {
  const Instruction* c = in.operands[i];
  const bool floating = IsFloating(in.shape.dtype);
  switch (in.opcode) {
    case Opcode::kAdd: return floating ? Is(c, 0, /*negative_zero=*/true) : Is(c, 0);  // -0 + +0 is +0
    case Opcode::kSubtract: return i == 1 && Is(c, 0);
    case Opcode::kMultiply: return Is(c, 1);
    case Opcode::kDivide: return i == 1 && Is(c, 1);
    default: return false;
  }
}

// What `in` can be replaced by, if anything.
Instruction* Simplified(Instruction& in) {
  if (in.operands.empty() || !in.shape.IsArray()) return nullptr;
  Instruction* x = in.operands[0];
  const bool same_shape = x->shape == in.shape;
  switch (in.opcode) {
    case Opcode::kAdd: case Opcode::kSubtract: case Opcode::kMultiply: case Opcode::kDivide:
      for (size_t i = 0; i < 2; ++i)
        if (in.operands[1 - i]->shape == in.shape && IsNeutral(in, i)) return in.operands[1 - i];
      return nullptr;
    case Opcode::kNegate:
      return x->opcode == Opcode::kNegate && x->operands[0]->shape == in.shape ? x->operands[0] : nullptr;
    case Opcode::kTranspose: return same_shape && IsIdentityPermutation(in.dimensions) ? x : nullptr;
    case Opcode::kBroadcast: return same_shape && IsIdentityPermutation(in.dimensions) ? x : nullptr;
    case Opcode::kReshape: case Opcode::kConvert: case Opcode::kCopy: case Opcode::kBitcast:
      return same_shape ? x : nullptr;
    case Opcode::kReverse: return in.dimensions.empty() && same_shape ? x : nullptr;
    case Opcode::kConcatenate: return in.operands.size() == 1 && same_shape ? x : nullptr;
    case Opcode::kSlice: {
      for (const SliceDim& d : in.slice)
        if (d.start != 0 || d.stride != 1) return nullptr;
      return same_shape ? x : nullptr;
    }
    case Opcode::kPad: {
      for (const PaddingDim& d : in.padding)
        if (d.low || d.high || d.interior) return nullptr;
      return same_shape ? x : nullptr;
    }
    default:
      return nullptr;
  }
}

}  // namespace

int64_t SimplifyAlgebra(Computation& c) {
  UseRewriter rewrite(c);
  int64_t rewrites = 0;
  for (const auto& owned : c.instructions) {
    Instruction& in = *owned;
    rewrite.UpdateOperands(in);
    // reshape(reshape(y)) is reshape(y): the row-major order is the same.
    if (in.opcode == Opcode::kReshape && in.operands[0]->opcode == Opcode::kReshape) {
      in.operands[0] = in.operands[0]->operands[0];
      ++rewrites;
    }
    if (Instruction* replacement = Simplified(in)) {
      rewrite.Replace(&in, replacement);
      ++rewrites;
    }
  }
  rewrite.Finish();
  return rewrites;
}

}  // namespace pjit
