// Per-opcode sharding propagation rules, as GSPMD applies them: forward (the sharding an
// instruction gets from one operand's sharding) and backward (the sharding an operand gets
// from the instruction's). Each result names the rule, for provenance.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "format/hlo_instruction.h"
#include "format/hlo_sharding.h"
#include "format/mesh.h"

namespace pjit {

struct RuleResult {
  HloSharding sharding;
  std::string rule;
};

std::optional<RuleResult> ForwardRule(const Instruction& instr, size_t operand, const HloSharding& operand_sharding,
                                      const Mesh& mesh);
std::optional<RuleResult> BackwardRule(const Instruction& instr, size_t operand, const HloSharding& instr_sharding,
                                       const Mesh& mesh);

// gather: the indices' batch dims <-> the output's batch dims; operand dims sliced whole (and
// not indexed) <-> the output offset dims they become. Propagation and the partitioner both
// split only these.
struct GatherMapping {
  std::vector<int64_t> operand_dims, operand_out;  // operand passthrough
  std::vector<int64_t> index_dims, index_out;      // index passthrough
};
GatherMapping GatherDimsOf(const Instruction& gather);

// scatter: operand dims updated whole (not indexed, not inserted) <-> the updates' window
// dims that cover them.
struct ScatterMapping {
  std::vector<int64_t> operand_dims, update_dims;
};
ScatterMapping ScatterDimsOf(const Instruction& scatter);

// The first priority level at which an opcode's rules apply, as in GSPMD: 0 for ops that
// pass shardings through unchanged, 1 for dot, reduce and the other reshaping ops, 2 for
// broadcast (last, so a broadcast does not decide the sharding of what it feeds).
int RuleLevel(Opcode op);
inline constexpr int kMaxRuleLevel = 2;

}  // namespace pjit
