#include "format/hlo_module.h"

#include <algorithm>

namespace pjit {

Instruction* Computation::Find(std::string_view n) const {
  for (const auto& instr : instructions)
    if (instr->name == n) return instr.get();
  return nullptr;
}

std::optional<Opcode> SimpleReducer(const Computation& c) {
  if (c.parameters.size() != 2) return std::nullopt;
  const Instruction* r = c.root;
  if (!IsElementwiseBinary(r->opcode)) return std::nullopt;
  if (r->operands[0] == c.parameters[0] && r->operands[1] == c.parameters[1]) return r->opcode;
  bool commutative = r->opcode == Opcode::kAdd || r->opcode == Opcode::kMultiply || r->opcode == Opcode::kMaximum ||
                     r->opcode == Opcode::kMinimum || r->opcode == Opcode::kAnd || r->opcode == Opcode::kOr ||
                     r->opcode == Opcode::kXor;
  if (commutative && r->operands[0] == c.parameters[1] && r->operands[1] == c.parameters[0]) return r->opcode;
  return std::nullopt;
}

Computation* Module::FindComputation(std::string_view n) const {
  for (const auto& c : computations)
    if (c->name == n) return c.get();
  return nullptr;
}

Instruction* Module::FindInstruction(std::string_view n) const {
  if (Instruction* in = entry ? entry->Find(n) : nullptr) return in;
  for (const auto& c : computations)
    if (Instruction* in = c->Find(n)) return in;
  return nullptr;
}

int64_t DevicesImplied(const Module& module) {
  if (module.num_partitions && *module.num_partitions > 0) return *module.num_partitions;
  int64_t n = 1;
  for (const auto& c : module.computations)
    for (const auto& in : c->instructions)
      if (in->sharding) n = std::max(n, DevicesImplied(*in->sharding));
  return n;
}

const std::string* Module::FindAttribute(std::string_view key) const {
  for (const auto& [k, v] : attributes)
    if (k == key) return &v;
  return nullptr;
}

}  // namespace pjit
