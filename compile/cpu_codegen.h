// The CPU back end: LLVM 19 compiles every loop fusion to x86-64 machine code, and lld links
// the objects in-process into one ELF shared object, which the artifact stores as the
// "x86_64" executable's binary. Kernels compile in parallel (oneTBB) in modules of a fixed
// size, so the bytes do not depend on the thread count: the same input gives the same file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "compile/kernel_fusion.h"
#include "format/status.h"

namespace pjit {

struct CpuCodegenOptions {
  // An LLVM CPU name: "x86-64" (portable, the default), "x86-64-v3", "x86-64-v4", "native",
  // or a model such as "skylake-avx512".
  std::string cpu = "x86-64";
  // How launch rows are cut (the CPU's; kGpuRowBlocking with one lane runs a GPU launch's rows
  // on the CPU, which is how tests check the CUDA kernels' index math without a GPU).
  RowBlocking blocking = kCpuRowBlocking;
  // Elementwise kernels whose outputs take at least this many bytes on a device write them
  // with non-temporal stores (see EmitLoopKernel): half the L3 of this class of machine, so
  // with the kernel's inputs more than a consumer could find cached. 0: never.
  uint64_t stream_bytes = uint64_t{16} << 20;
};

// The CPU `options.cpu` stands for ("native": this machine's), or an error naming the choices.
StatusOr<std::string> ResolveCpu(const std::string& cpu);

// The x86-64 instruction set extensions that code for `cpu` (a resolved name) may use, among
// those a runtime can check (CpuFeaturesAvailable in run/plugins/cpu).
std::vector<std::string> CpuFeatures(const std::string& cpu);

// The shared object with one exported kernel per fusion, named by LoopFusion::name.
// `kernels_done(done, total)` is called (from worker threads) as modules finish.
StatusOr<std::string> CompileLoopKernels(const std::vector<LoopFusion>& fusions, const CpuCodegenOptions& options,
                                         const std::function<void(int64_t done, int64_t total)>& kernels_done = {});

// The kernels as x86-64 assembly (AT&T syntax) in one module, as CompileLoopKernels compiles
// them: what the code generator made of the fusions, for reading and for tests.
StatusOr<std::string> LoopKernelsAssembly(const std::vector<LoopFusion>& fusions, const CpuCodegenOptions& options);

}  // namespace pjit
