// Lowers an SPMD device program to the thunk sequence every device runs, with its arena plan:
// dots that are plain (batched) matrix products of f32/f64/bf16 become gemm thunks, collectives
// with a simple reducer become collective thunks (run by the platform's own communicator),
// copies become copy thunks, tuples, get-tuple-element, bitcasts and reshapes only rename
// buffers, and every other instruction is a kernel of the "hlo" executable: the platform runs
// that instruction with its reference kernels. Each loop fusion given becomes one kernel of a
// second executable, "x86_64" (format elf, its binary left for the code generator to fill):
// its members get no buffers of their own, its root's kernel reads the fusion's inputs
// (the fusions of nested computations included: FindModuleLoopFusions). While loops and
// conditionals (with an s32 or pred index) become while and conditional thunks whose
// computations lower, the same way, into nested thunk lists.
// Entry parameters and results are pinned (bytes no other buffer ever shares; a result that
// is a parameter or repeats another is copied first), so a runtime may run them in place; so
// are constants (live for the whole program), so a runtime may fill them once when it loads.
#pragma once

#include <vector>

#include "compile/kernel_fusion.h"
#include "format/hlo_module.h"
#include "format/status.h"
#include "format/thunks.h"

namespace pjit {

StatusOr<ThunkPlan> LowerToThunks(const Module& device_program, const std::vector<LoopFusion>& fusions = {});

}  // namespace pjit
