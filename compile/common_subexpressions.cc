#include "compile/common_subexpressions.h"

#include <functional>
#include <unordered_map>
#include <vector>

#include "compile/instruction_rewrite.h"

namespace pjit {
namespace {

bool Replaceable(const Instruction& in) {
  switch (in.opcode) {
    case Opcode::kParameter: case Opcode::kCustomCall: case Opcode::kRngBitGenerator: case Opcode::kAfterAll:
    case Opcode::kAddDependency: case Opcode::kOptimizationBarrier:
      return false;
    default:
      return !IsCollective(in.opcode);
  }
}

// Everything that decides the value, names and debug information aside.
bool SameComputation(const Instruction& a, const Instruction& b) {
  return a.opcode == b.opcode && a.shape == b.shape && a.operands == b.operands && a.called == b.called &&
         a.literal == b.literal && a.parameter_number == b.parameter_number && a.tuple_index == b.tuple_index &&
         a.dimensions == b.dimensions && a.slice == b.slice && a.slice_sizes == b.slice_sizes && a.padding == b.padding &&
         a.dot_dims == b.dot_dims && a.window == b.window && a.conv_dims == b.conv_dims &&
         a.feature_group_count == b.feature_group_count && a.batch_group_count == b.batch_group_count &&
         a.gather_dims == b.gather_dims && a.scatter_dims == b.scatter_dims && a.indices_are_sorted == b.indices_are_sorted &&
         a.unique_indices == b.unique_indices && a.comparison_direction == b.comparison_direction &&
         a.comparison_type == b.comparison_type && a.is_stable == b.is_stable && a.exponent_bits == b.exponent_bits &&
         a.mantissa_bits == b.mantissa_bits && a.operand_precision == b.operand_precision;
}

size_t HashOf(const Instruction& in) {
  size_t h = std::hash<int>()(static_cast<int>(in.opcode));
  auto mix = [&](size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
  mix(std::hash<int>()(static_cast<int>(in.shape.dtype)));
  for (int64_t d : in.shape.dims) mix(std::hash<int64_t>()(d));
  for (const Instruction* o : in.operands) mix(std::hash<const void*>()(o));
  for (int64_t d : in.dimensions) mix(std::hash<int64_t>()(d));
  return h;
}

}  // namespace

int64_t EliminateCommonSubexpressions(Computation& c) {
  UseRewriter rewrite(c);
  std::unordered_map<size_t, std::vector<Instruction*>> seen;
  int64_t replaced = 0;
  for (const auto& owned : c.instructions) {
    Instruction* in = owned.get();
    rewrite.UpdateOperands(*in);
    if (!Replaceable(*in)) continue;
    std::vector<Instruction*>& same_hash = seen[HashOf(*in)];
    Instruction* earlier = nullptr;
    for (Instruction* e : same_hash)
      if (SameComputation(*e, *in)) earlier = e;
    if (earlier) {
      rewrite.Replace(in, earlier);
      ++replaced;
    } else {
      same_hash.push_back(in);
    }
  }
  rewrite.Finish();
  return replaced;
}

}  // namespace pjit
