#include "compile/instruction_rewrite.h"

namespace pjit {

bool IsIdentityPermutation(const std::vector<int64_t>& permutation) {
  for (size_t i = 0; i < permutation.size(); ++i)
    if (permutation[i] != static_cast<int64_t>(i)) return false;
  return true;
}

Instruction* InstructionInserter::Add(Opcode op, Shape shape, std::vector<Instruction*> operands, const std::string& suffix) {
  auto in = std::make_unique<Instruction>();
  std::string name = origin_.name + "." + suffix;
  for (int n = 1; names_.count(name); ++n) name = origin_.name + "." + suffix + "." + std::to_string(n);
  names_.insert(name);
  in->name = std::move(name);
  in->opcode = op;
  in->shape = std::move(shape);
  in->operands = std::move(operands);
  in->metadata = origin_.metadata;
  in->location = origin_.location;
  in->spmd_origin = origin_.spmd_origin;
  out_.push_back(std::move(in));
  return out_.back().get();
}

Instruction* InstructionInserter::Transpose(Instruction* x, const std::vector<int64_t>& permutation, const std::string& suffix) {
  std::vector<int64_t> dims;
  for (int64_t p : permutation) dims.push_back(x->shape.dims[static_cast<size_t>(p)]);
  Instruction* t = Add(Opcode::kTranspose, Shape::Array(x->shape.dtype, dims), {x}, suffix);
  t->dimensions = permutation;
  return t;
}

int64_t RewriteInstructions(Computation& c, const std::function<Instruction*(Instruction&, InstructionInserter&)>& rewrite) {
  std::set<std::string> names;
  for (const auto& in : c.instructions) names.insert(in->name);
  UseRewriter uses(c);
  std::vector<std::unique_ptr<Instruction>> out;
  int64_t rewrites = 0;
  for (auto& owned : c.instructions) {
    Instruction& in = *owned;
    uses.UpdateOperands(in);
    InstructionInserter inserter(in, names, out);
    if (Instruction* replacement = rewrite(in, inserter)) {
      uses.Replace(&in, replacement);
      ++rewrites;
    }
    out.push_back(std::move(owned));
  }
  c.instructions = std::move(out);
  uses.Finish();
  return rewrites;
}

}  // namespace pjit
