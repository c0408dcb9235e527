// Replaces every `call` in the entry computation by the instructions of the computation it
// calls (recursively), as XLA's CallInliner does before SPMD partitioning: JAX wraps even
// relu in a call, and shardings must flow through. Inlined instructions are named
// "<call>.<name>" and keep their metadata and source locations.
#pragma once

#include <cstddef>

#include "format/hlo_module.h"
#include "format/status.h"

namespace pjit {

// Calls nest at most this deep, and inlining stops with an error, at the call it reached,
// once the entry would hold more than kMaxInlinedInstructions.
inline constexpr int kMaxCallNesting = 64;
inline constexpr size_t kMaxInlinedInstructions = 10'000'000;

Status InlineCalls(Module& module);

}  // namespace pjit
