// pjit-inspect --explain NAME: why an instruction of the global program has its sharding. The
// chain follows each sharding's provenance (written by sharding propagation) back to where it
// started: a command-line PartitionSpec, an annotation in the module, or the replicated
// default for what no rule reached.
#pragma once

#include <string>
#include <vector>

#include "format/hlo_module.h"
#include "format/status.h"
#include "inspect/json_writer.h"

namespace pjit {

struct ExplainStep {
  const Instruction* instruction;
  std::string reason;  // how it got its sharding, in words
};

// From `name` back to the origin of its sharding; the first step is `name` itself.
StatusOr<std::vector<ExplainStep>> ExplainSharding(const Module& global, const std::string& name);

std::string ExplainText(const std::vector<ExplainStep>& chain);
void ExplainJson(const std::vector<ExplainStep>& chain, JsonWriter& j);

}  // namespace pjit
