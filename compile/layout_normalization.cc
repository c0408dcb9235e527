#include "compile/layout_normalization.h"

#include <memory>
#include <set>

#include "compile/instruction_rewrite.h"

namespace pjit {
namespace {

bool IsIdentity(const std::vector<int64_t>& permutation) {
  for (size_t i = 0; i < permutation.size(); ++i)
    if (permutation[i] != static_cast<int64_t>(i)) return false;
  return true;
}

void ClearLayouts(Shape& s) {
  s.layout.reset();
  for (Shape& e : s.tuple_shapes) ClearLayouts(e);
}

// A new instruction after `origin`'s name, with its metadata, into `out`.
Instruction* Add(const Instruction& origin, Opcode op, Shape shape, Instruction* operand, const char* suffix, std::set<std::string>& names,
                 std::vector<std::unique_ptr<Instruction>>& out) {
  auto in = std::make_unique<Instruction>();
  std::string name = origin.name + "." + suffix;
  for (int n = 1; names.count(name); ++n) name = origin.name + "." + suffix + "." + std::to_string(n);
  names.insert(name);
  in->name = std::move(name);
  in->opcode = op;
  in->shape = std::move(shape);
  in->operands = {operand};
  in->metadata = origin.metadata;
  in->location = origin.location;
  out.push_back(std::move(in));
  return out.back().get();
}

Instruction* Transpose(const Instruction& origin, Instruction* x, const std::vector<int64_t>& permutation, const char* suffix,
                       std::set<std::string>& names, std::vector<std::unique_ptr<Instruction>>& out) {
  std::vector<int64_t> dims;
  for (int64_t p : permutation) dims.push_back(x->shape.dims[static_cast<size_t>(p)]);
  Instruction* t = Add(origin, Opcode::kTranspose, Shape::Array(x->shape.dtype, dims), x, suffix, names, out);
  t->dimensions = permutation;
  return t;
}

int64_t NormalizeComputation(Computation& c) {
  std::set<std::string> names;
  for (const auto& in : c.instructions) names.insert(in->name);
  UseRewriter rewrite(c);
  std::vector<std::unique_ptr<Instruction>> out;
  int64_t rewrites = 0;
  for (auto& owned : c.instructions) {
    Instruction& in = *owned;
    rewrite.UpdateOperands(in);
    if (in.opcode == Opcode::kBitcast && in.shape.IsArray() && in.operands[0]->shape.IsArray()) {
      const std::vector<int64_t> from = MajorToMinor(in.operands[0]->shape), to = MajorToMinor(in.shape);
      if (!IsIdentity(from) || !IsIdentity(to)) {
        Instruction* x = in.operands[0];
        if (!IsIdentity(from)) x = Transpose(in, x, from, "memory_order", names, out);
        std::vector<int64_t> dims, inverse(to.size());
        for (size_t i = 0; i < to.size(); ++i) {
          dims.push_back(in.shape.dims[static_cast<size_t>(to[i])]);
          inverse[static_cast<size_t>(to[i])] = static_cast<int64_t>(i);
        }
        x = Add(in, Opcode::kReshape, Shape::Array(in.shape.dtype, dims), x, "reinterpret", names, out);
        if (!IsIdentity(to)) x = Transpose(in, x, inverse, "logical_order", names, out);
        x->sharding = in.sharding;
        x->sharding_provenance = in.sharding_provenance;
        rewrite.Replace(&in, x);
        ++rewrites;
      }
    }
    out.push_back(std::move(owned));
  }
  c.instructions = std::move(out);
  rewrite.Finish();
  for (const auto& in : c.instructions) ClearLayouts(in->shape);
  return rewrites;
}

}  // namespace

int64_t NormalizeLayouts(Module& module) {
  int64_t rewrites = 0;
  for (const auto& c : module.computations) rewrites += NormalizeComputation(*c);
  return rewrites;
}

}  // namespace pjit
