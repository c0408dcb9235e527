// Replacing instructions by others in one sweep over a computation: passes visit
// instructions in order, bring each one's operands up to date, and record replacements;
// Finish() updates the root. Replaced instructions stay, unused, for EliminateDeadCode.
#pragma once

#include <unordered_map>

#include "format/hlo_module.h"

namespace pjit {

class UseRewriter {
 public:
  explicit UseRewriter(Computation& c) : c_(c) {}

  // Points in's operands at their replacements.
  void UpdateOperands(Instruction& in) {
    for (Instruction*& o : in.operands) o = Current(o);
  }
  // Uses of `from` (later in order, and the root) read `to` instead.
  void Replace(const Instruction* from, Instruction* to) { replacement_[from] = Current(to); }
  void Finish() { c_.root = Current(c_.root); }

 private:
  Instruction* Current(Instruction* in) const {
    auto it = replacement_.find(in);
    return it == replacement_.end() ? in : it->second;
  }

  Computation& c_;
  std::unordered_map<const Instruction*, Instruction*> replacement_;
};

}  // namespace pjit
