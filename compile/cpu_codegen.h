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

}  // namespace pjit
