#include "compile/call_inliner.h"

#include <unordered_map>
#include <unordered_set>

namespace pjit {
namespace {

// Rebuilds `c` with each call replaced by a copy of its callee; returns true if it inlined.
bool InlineOnce(Computation& c, std::unordered_set<std::string>& names) {
  bool inlined = false;
  std::vector<std::unique_ptr<Instruction>> out;
  std::unordered_map<const Instruction*, Instruction*> replacement;  // call → inlined root
  for (auto& owned : c.instructions) {
    Instruction* in = owned.get();
    for (Instruction*& o : in->operands)
      if (auto it = replacement.find(o); it != replacement.end()) o = it->second;
    if (in->opcode != Opcode::kCall) {
      out.push_back(std::move(owned));
      continue;
    }
    inlined = true;
    const Computation& callee = *in->called[0];
    std::unordered_map<const Instruction*, Instruction*> clone_of;
    for (const auto& ci : callee.instructions) {
      if (ci->opcode == Opcode::kParameter) {
        clone_of[ci.get()] = in->operands[static_cast<size_t>(ci->parameter_number)];
        continue;
      }
      auto copy = std::make_unique<Instruction>(*ci);
      std::string name = in->name + "." + ci->name;
      while (!names.insert(name).second) name += "_";
      copy->name = name;
      for (Instruction*& o : copy->operands) o = clone_of.at(o);
      // The call's sharding, if any, belongs to what the call returns.
      if (ci.get() == callee.root && in->sharding) copy->sharding = in->sharding;
      clone_of[ci.get()] = copy.get();
      out.push_back(std::move(copy));
    }
    replacement[in] = clone_of.at(callee.root);
    if (c.root == in) c.root = replacement[in];
  }
  c.instructions = std::move(out);
  return inlined;
}

}  // namespace

Status InlineCalls(Module& module) {
  Computation& entry = *module.entry;
  std::unordered_set<std::string> names;
  for (const auto& in : entry.instructions) names.insert(in->name);
  // Each round inlines one level of calls; nested calls come in with their caller. A call
  // still there after the last round, or an entry grown past the cap (a callee called twice
  // at every level doubles it each round), ends it with the place that call stood.
  for (int round = 0; InlineOnce(entry, names); ++round) {
    const bool deep = round + 1 >= kMaxCallNesting, big = entry.instructions.size() > kMaxInlinedInstructions;
    if (!deep && !big) continue;
    for (const auto& in : entry.instructions)
      if (in->opcode == Opcode::kCall)
        return InvalidArgument(in->location, ": ", in->called[0]->name, ": ",
                               deep ? StrCat("calls nested more than ", kMaxCallNesting, " deep")
                                    : StrCat("inlining calls makes more than ", kMaxInlinedInstructions, " instructions"));
  }
  // Computations only calls used are gone from the entry's reach; drop them.
  std::unordered_set<const Computation*> reachable;
  std::vector<const Computation*> stack = {&entry};
  while (!stack.empty()) {
    const Computation* c = stack.back();
    stack.pop_back();
    if (!reachable.insert(c).second) continue;
    for (const auto& in : c->instructions)
      for (const Computation* callee : in->called) stack.push_back(callee);
  }
  std::vector<std::unique_ptr<Computation>> kept;
  for (auto& c : module.computations)
    if (reachable.count(c.get())) kept.push_back(std::move(c));
  module.computations = std::move(kept);
  return OkStatus();
}

}  // namespace pjit
