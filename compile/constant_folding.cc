#include "compile/constant_folding.h"

#include "format/elementwise_eval.h"

namespace pjit {

int64_t FoldConstants(Computation& computation) {
  constexpr int64_t kMaxElements = 65536;
  int64_t folded = 0;
  for (const auto& in : computation.instructions) {
    if (!IsElementwiseEvaluable(in->opcode) || !in->shape.IsArray() || in->shape.ElementCount() > kMaxElements) continue;
    std::vector<const Literal*> values;
    for (const Instruction* o : in->operands)
      if (o->opcode == Opcode::kConstant && o->shape.IsArray()) values.push_back(&o->literal);
    if (values.size() != in->operands.size() || values.empty()) continue;
    Instruction constant;
    constant.name = in->name;
    constant.opcode = Opcode::kConstant;
    constant.shape = in->shape;
    constant.literal = EvaluateElementwise(*in, values);
    constant.sharding = std::move(in->sharding);
    constant.sharding_provenance = std::move(in->sharding_provenance);
    constant.metadata = std::move(in->metadata);
    constant.location = std::move(in->location);
    constant.spmd_origin = std::move(in->spmd_origin);
    *in = std::move(constant);
    ++folded;
  }
  return folded;
}

}  // namespace pjit
