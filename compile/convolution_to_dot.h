// Dot-like convolutions become dots, so that thunk lowering gives them a gemm: a convolution
// whose every window dim is 1 wide, unstrided, unpadded and undilated, without feature or
// batch groups (a 1x1 convolution, or one with no spatial dims), of f32, f64 or bf16, is
// out[b, s..., o] = sum_i in[b, s..., i] · k[i, o]. It becomes a transpose of the input that
// puts its feature dim last (none when it is last already, as in NHWC), a reshape of the
// kernel to [i, o] or [o, i] (dropping its spatial dims, all 1), a dot contracting the two,
// and a transpose of the product into the convolution's output order (none for NHWC). The
// transposes are index math in loop kernels; the sums are a gemm's (f32 accumulation, as
// XLA's CPU backend computes these convolutions), no longer the interpreter's exact order.
#pragma once

#include <cstdint>

#include "format/hlo_module.h"

namespace pjit {

bool IsDotLikeConvolution(const Instruction& in);

// The number of convolutions rewritten (they stay, unused, for EliminateDeadCode).
int64_t RewriteDotLikeConvolutions(Computation& computation);

}  // namespace pjit
