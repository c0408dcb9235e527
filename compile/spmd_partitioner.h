// The SPMD partitioner (GSPMD's SpmdPartitioner): turns the global program, once every
// instruction has a sharding, into the one program every device runs, parameterised by
// partition-id. Each instruction becomes its handler's local ops on shard shapes (ceil(n/k)
// per split dim) with the communication made explicit; operands are resharded to what each
// handler needs (see reshard.h); what pjit cannot partition yet runs on gathered operands,
// with a warning that names it. Manual regions pass through.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "format/hlo_module.h"
#include "format/mesh.h"
#include "format/status.h"

namespace pjit {

struct PartitionResult {
  std::unique_ptr<Module> module;     // the per-device program, verified
  std::vector<std::string> warnings;  // one line each, starting with the instruction's location
};

// `global` must have been through sharding propagation (instructions without a sharding are
// treated as replicated). Entry parameters and results keep their shardings' shard shapes,
// as ShardedSignature describes them.
StatusOr<PartitionResult> PartitionModule(const Module& global, const Mesh& mesh);

}  // namespace pjit
