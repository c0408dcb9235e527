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

class Collectives;

struct EvaluationOptions {
  int64_t partition_id = 0;  // what partition-id returns
  int64_t replica_id = 0;    // what replica-id returns
  // Where collectives meet the other devices; null: a single device, whose collectives
  // must involve only itself.
  Collectives* collectives = nullptr;
};

// Runs the entry computation. `arguments` must match the entry parameters' shapes.
StatusOr<Literal> EvaluateModule(const Module& module, const std::vector<Literal>& arguments,
                                 const EvaluationOptions& options = {});

// Evaluates one instruction (not a parameter) on its operands' values: a platform's reference kernel.
StatusOr<Literal> EvaluateInstruction(const Instruction& instr, const std::vector<const Literal*>& operands,
                                      const EvaluationOptions& options = {});

// Runs an SPMD program on `arguments.size()` devices at once, one thread each; device d sees
// partition-id d and its own arguments; collectives combine across devices. A collective
// that some device never reaches fails after `timeout_ms`, naming those devices.
StatusOr<std::vector<Literal>> EvaluateSpmd(const Module& module, const std::vector<std::vector<Literal>>& arguments,
                                            int64_t timeout_ms = 60'000);
// The same with a program per device (programs[d] runs on device d).
StatusOr<std::vector<Literal>> EvaluateSpmd(const std::vector<const Module*>& programs,
                                            const std::vector<std::vector<Literal>>& arguments, int64_t timeout_ms);

// The leaves of a (possibly nested) tuple result, in order.
std::vector<Literal> FlattenResult(Literal result);

}  // namespace pjit
