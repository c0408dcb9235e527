// The CUDA back end: LLVM 19's NVPTX target compiles every loop fusion to a PTX kernel, and
// ptxas (when the CUDA Toolkit is present) assembles that PTX into a cubin per GPU
// architecture. The loop emitter is the CPU's (same semantics, same fusion decisions); a GPU
// kernel `NAME(void* const* arguments, int64_t threads)` runs one launch row per thread, with
// rows cut as kGpuRowBlocking says (one element per thread for elementwise roots, so that a
// warp reads and writes neighbouring elements), or one per warp for row reductions and
// fusions with row values (LoopFusionLanes: lanes stride over the row and folds combine by
// warp shuffles). Math functions with no PTX instruction come
// from the toolkit's libdevice, linked in and internalised. All kernels go into one module,
// so the PTX and the cubins are the same bytes for the same input.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "compile/cuda_toolkit.h"
#include "compile/kernel_fusion.h"
#include "format/status.h"

namespace pjit {

struct CudaCodegenOptions {
  // GPU architectures to build cubins for, e.g. {"sm_80", "sm_90"}; the PTX targets the
  // lowest, so that the driver can compile it for any later GPU.
  std::vector<std::string> archs = {"sm_80", "sm_90"};
};

struct CudaKernels {
  std::string ptx;                                          // for the lowest architecture
  std::vector<std::pair<std::string, std::string>> cubins;  // (arch, ELF), in arch order
  std::vector<uint64_t> threads;                            // per fusion: the threads its launch runs
  std::vector<std::string> warnings;                        // e.g. no ptxas: PTX only
};

// The architectures `archs` names ("sm_80,sm_90" split), checked against what LLVM's NVPTX
// target knows, sorted and without repeats; an error names a bad one.
StatusOr<std::vector<std::string>> ResolveCudaArchs(const std::vector<std::string>& archs);

// How many threads a GPU launch of `fusion` runs (LoopFusionRows times LoopFusionLanes with
// kGpuRowBlocking).
uint64_t CudaKernelThreads(const LoopFusion& fusion);

StatusOr<CudaKernels> CompileCudaKernels(const std::vector<LoopFusion>& fusions, const CudaCodegenOptions& options,
                                         const CudaToolkit& toolkit);

}  // namespace pjit
