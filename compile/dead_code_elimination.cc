#include "compile/dead_code_elimination.h"

#include <algorithm>
#include <unordered_set>
#include <vector>

namespace pjit {
namespace {

bool HasSideEffect(const Instruction& in) {
  return in.opcode == Opcode::kParameter || (in.opcode == Opcode::kCustomCall && in.custom_call_has_side_effect);
}

}  // namespace

int64_t EliminateDeadCode(Computation& c) {
  std::unordered_set<const Instruction*> live;
  std::vector<const Instruction*> work;
  auto keep = [&](const Instruction* in) {
    if (live.insert(in).second) work.push_back(in);
  };
  if (c.root) keep(c.root);
  for (const auto& in : c.instructions)
    if (HasSideEffect(*in)) keep(in.get());
  while (!work.empty()) {
    const Instruction* in = work.back();
    work.pop_back();
    for (const Instruction* o : in->operands) keep(o);
  }
  size_t before = c.instructions.size();
  std::erase_if(c.instructions, [&](const std::unique_ptr<Instruction>& in) { return !live.count(in.get()); });
  return static_cast<int64_t>(before - c.instructions.size());
}

}  // namespace pjit
