// Sharding propagation (GSPMD's ShardingPropagation): gives every instruction of the entry
// computation, and of the bodies, conditions and branches of its control flow, a sharding,
// starting from the annotated ones. A while loop's state keeps one sharding through operand,
// body, condition and result; a conditional's branches take their operands' shardings and
// return the result's. Priority levels run in order
// (pass-through ops, then dot/reduce/reshaping ops, then broadcasts); at each level forward
// and backward passes repeat until nothing changes. Annotations are never overwritten and a
// sharding is only replaced by one that splits the data into more tiles, so it terminates.
// Each instruction records its provenance; what no rule reaches is replicated by default.
#pragma once

#include <string>
#include <vector>

#include "format/hlo_module.h"
#include "format/mesh.h"
#include "format/status.h"

namespace pjit {

struct PropagationReport {
  int passes = 0;
  std::vector<std::string> warnings;  // one line each, starting with the instruction's location
};

StatusOr<PropagationReport> PropagateShardings(Module& module, const Mesh& mesh);

}  // namespace pjit
