// LLVM IR for one loop fusion: `void NAME(void* const* arguments, int64_t begin, int64_t end)`
// computes rows [begin, end) of the fusion's root (rows as LoopFusionRows counts them: blocks of
// the last dimension (see RowBlocking) — a column reduction folds its input's rows into them — or another
// reduction's output elements): first the row values (a loop over
// the row for each reduction among them), then every element from the fusion's inputs
// through index math (broadcast, transpose, iota) and the members' scalar semantics, which follow the reference interpreter's exactly
// (XLA's integer division rules, NaN-propagating max/min with -0 < +0, saturating float-to-int conversion,
// bfloat16 and half computed in float and rounded after every op) — except float exp, tanh and logistic, which are
// polynomial approximations within a few ulp, and f32/f64 sums and products, which may be
// reassociated: both as in XLA, so that their loops vectorise.
// arguments[i] is input i's base address, then come the root's (one per leaf of a sort's
// tuple), the siblings' and the kernel's scratch (LoopFusionScratchBytes), if any. Alias metadata
// tells LLVM that the output and the inputs do not overlap, so it vectorises: the buffer plan
// guarantees it, except for an input whose bytes the plan gives the output
// (LoopFusionInPlaceInputs), which the kernel reads only at the element it writes, so every
// such load feeds the store that overwrites it and cannot move past it.
#pragma once

#include <cstdint>

#include "compile/kernel_fusion.h"
#include "format/status.h"

namespace llvm {
class Module;
}

namespace pjit {

// `blocking` must be the one the kernel's launch rows are counted with (LoopFusionRows).
// An x86 kernel of an elementwise root whose outputs take at least `stream_bytes` (0: none
// does) is emitted twice: where every output is 64-byte aligned, a copy whose element stores
// MarkStreamedStores makes non-temporal once the module is optimised, else the plain one.
Status EmitLoopKernel(const LoopFusion& fusion, llvm::Module& module, RowBlocking blocking = kCpuRowBlocking,
                      uint64_t stream_bytes = 0);

// Marks the streaming copies' vector stores of whole aligned vectors (16 bytes or more)
// non-temporal: the vectoriser would not widen a scalar non-temporal store whose alignment
// is below the vector's, so the mark goes on after optimisation has inferred alignments.
void MarkStreamedStores(llvm::Module& module);

}  // namespace pjit
