// Why an instruction has its sharding: given on the command line or annotated in the module,
// or carried forward from an operand / backward from a user by a propagation rule, or the
// replicated default for what no rule reached. pjit-inspect --explain follows these links.
#pragma once

#include <cstdint>
#include <string>

namespace pjit {

struct ShardingProvenance {
  enum class Origin : uint8_t { kNone, kCommandLine, kAnnotation, kForward, kBackward, kDefault };
  Origin origin = Origin::kNone;
  std::string from;  // the instruction the sharding came from (forward: operand; backward: user)
  int operand = -1;  // forward: which operand of this instruction
  std::string rule;
  int level = 0;     // GSPMD priority level of the rule
  int pass = 0;      // propagation pass that set it
  bool operator==(const ShardingProvenance&) const = default;
};

}  // namespace pjit
