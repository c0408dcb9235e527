#include "compile/layout_normalization.h"

#include "compile/instruction_rewrite.h"

namespace pjit {
namespace {

void ClearLayouts(Shape& s) {
  s.layout.reset();
  for (Shape& e : s.tuple_shapes) ClearLayouts(e);
}

// A bitcast between layouts as transposes around a reshape, inserted by `b`; null when both
// sides are row-major (it is a reshape already).
Instruction* AsRowMajor(Instruction& in, InstructionInserter& b) {
  if (in.opcode != Opcode::kBitcast || !in.shape.IsArray() || !in.operands[0]->shape.IsArray()) return nullptr;
  if (IsRowMajor(in.operands[0]->shape) && IsRowMajor(in.shape)) return nullptr;
  const std::vector<int64_t> from = MajorToMinor(in.operands[0]->shape), to = MajorToMinor(in.shape);
  Instruction* x = in.operands[0];
  if (!IsIdentityPermutation(from)) x = b.Transpose(x, from, "memory_order");
  std::vector<int64_t> dims, inverse(to.size());
  for (size_t i = 0; i < to.size(); ++i) {
    dims.push_back(in.shape.dims[static_cast<size_t>(to[i])]);
    inverse[static_cast<size_t>(to[i])] = static_cast<int64_t>(i);
  }
  x = b.Add(Opcode::kReshape, Shape::Array(in.shape.dtype, dims), {x}, "reinterpret");
  if (!IsIdentityPermutation(to)) x = b.Transpose(x, inverse, "logical_order");
  x->sharding = in.sharding;
  x->sharding_provenance = in.sharding_provenance;
  return x;
}

}  // namespace

int64_t NormalizeLayouts(Module& module) {
  int64_t rewrites = 0;
  for (const auto& c : module.computations) {
    rewrites += RewriteInstructions(*c, AsRowMajor);
    for (const auto& in : c->instructions) ClearLayouts(in->shape);
  }
  return rewrites;
}

}  // namespace pjit
