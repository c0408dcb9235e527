// Replaces every `call` in the entry computation by the instructions of the computation it
// calls (recursively), as XLA's CallInliner does before SPMD partitioning: JAX wraps even
// relu in a call, and shardings must flow through. Inlined instructions are named
// "<call>.<name>" and keep their metadata and source locations.
#pragma once

#include "format/hlo_module.h"
#include "format/status.h"

namespace pjit {

Status InlineCalls(Module& module);

}  // namespace pjit
