#include "format/hlo_module.h"

namespace pjit {

Instruction* Computation::Find(std::string_view n) const {
  for (const auto& instr : instructions)
    if (instr->name == n) return instr.get();
  return nullptr;
}

Computation* Module::FindComputation(std::string_view n) const {
  for (const auto& c : computations)
    if (c->name == n) return c.get();
  return nullptr;
}

const std::string* Module::FindAttribute(std::string_view key) const {
  for (const auto& [k, v] : attributes)
    if (k == key) return &v;
  return nullptr;
}

}  // namespace pjit
