#include "format/verifier.h"

#include "format/shape_inference.h"

namespace pjit {
namespace {

Status InstructionError(const Instruction& in, const Status& s) {
  return InvalidArgument(in.location, ": ", in.name, ": ", s.message());
}

}  // namespace

Status VerifyModule(const Module& module) {
  if (!module.entry) return InvalidArgument("module '", module.name, "' has no entry computation");
  for (const auto& comp : module.computations) {
    for (const auto& in : comp->instructions) {
      StatusOr<Shape> inferred = InferShape(*in);
      if (!inferred.ok()) return InstructionError(*in, inferred.status());
      if (!WithinElementLimit(*inferred) || !WithinElementLimit(in->shape))
        return InvalidArgument(in->location, ": ", in->name, ": result has more than 2^50 elements");
      if (in->sharding) {
        Status valid = ValidateSharding(*in->sharding, in->shape, /*num_devices=*/0);
        if (!valid.ok()) return InstructionError(*in, valid);
      }
      if (!inferred->Compatible(in->shape))
        return InvalidArgument(in->location, ": ", in->name, ": declared shape ", in->shape.ToString(false),
                               " but ", OpcodeName(in->opcode), " gives ", inferred->ToString(false));
    }
  }
  return OkStatus();
}

}  // namespace pjit
