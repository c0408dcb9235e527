// Replacing instructions by others in one sweep over a computation: passes visit
// instructions in order, bring each one's operands up to date, and record replacements;
// Finish() updates the root. Replaced instructions stay, unused, for EliminateDeadCode.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

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

bool IsIdentityPermutation(const std::vector<int64_t>& permutation);

// New instructions placed before the one a sweep visits, each named after it ("NAME.SUFFIX",
// numbered when taken) and carrying its metadata, location and SPMD origin.
class InstructionInserter {
 public:
  InstructionInserter(const Instruction& origin, std::set<std::string>& names, std::vector<std::unique_ptr<Instruction>>& out)
      : origin_(origin), names_(names), out_(out) {}

  Instruction* Add(Opcode op, Shape shape, std::vector<Instruction*> operands, const std::string& suffix);
  // x's dims reordered: result dim i is x's dim permutation[i].
  Instruction* Transpose(Instruction* x, const std::vector<int64_t>& permutation, const std::string& suffix);

 private:
  const Instruction& origin_;
  std::set<std::string>& names_;
  std::vector<std::unique_ptr<Instruction>>& out_;
};

// Visits every instruction of `c` in order (operands up to date); `rewrite` may insert
// instructions before it and returns its replacement, or null to keep it. Returns the number
// of instructions replaced.
int64_t RewriteInstructions(Computation& c, const std::function<Instruction*(Instruction&, InstructionInserter&)>& rewrite);

}  // namespace pjit
