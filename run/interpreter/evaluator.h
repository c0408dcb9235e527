// The reference interpreter: evaluates a verified module on host arrays, every opcode of the
// program model and every dtype. It is the correctness oracle of pjit, so it favours clarity
// over speed (with fast paths for the common reducers so 100-MFLOP modules take seconds).
#pragma once

#include <cstdint>
#include <vector>

#include "format/hlo_module.h"
#include "format/literal.h"
#include "format/status.h"

namespace pjit {

struct EvaluationOptions {
  int64_t partition_id = 0;  // what partition-id returns
  int64_t replica_id = 0;    // what replica-id returns
};

// Runs the entry computation. `arguments` must match the entry parameters' shapes.
StatusOr<Literal> EvaluateModule(const Module& module, const std::vector<Literal>& arguments,
                                 const EvaluationOptions& options = {});

}  // namespace pjit
