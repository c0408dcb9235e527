// The CUDA driver API, loaded at run time: the cuda plugin opens libcuda.so.1 (which comes with
// the NVIDIA driver, not the toolkit) when a client is created, so the plugin loads on any
// machine and says "no CUDA device" where there is no driver or GPU instead of failing to load.
#pragma once

#include <cuda.h>

#include <string_view>

#include "format/status.h"

namespace pjit {

// The entry points the plugin calls. cuda.h maps some names to their current versions by macro
// (cuMemAlloc is cuMemAlloc_v2): members and symbols follow the same macros.
#define PJIT_CUDA_DRIVER_FUNCTIONS(X)                                                                                     \
  X(cuInit) X(cuDeviceGetCount) X(cuDeviceGet) X(cuDeviceGetName) X(cuDeviceGetAttribute) X(cuDeviceTotalMem)          \
  X(cuDevicePrimaryCtxRetain) X(cuDevicePrimaryCtxRelease) X(cuCtxSetCurrent) X(cuMemAlloc) X(cuMemFree) X(cuMemAllocAsync) X(cuMemFreeAsync) X(cuDeviceGetDefaultMemPool) X(cuMemPoolSetAttribute)               \
  X(cuMemcpyHtoD) X(cuMemcpyDtoH) X(cuMemcpyHtoDAsync) X(cuMemcpyDtoHAsync) X(cuMemcpyDtoDAsync) X(cuMemcpy2DAsync) X(cuMemsetD8Async)                 \
  X(cuModuleLoadDataEx) X(cuModuleUnload) X(cuModuleGetFunction) X(cuLaunchKernel) X(cuStreamCreate) X(cuStreamDestroy) \
  X(cuStreamSynchronize) X(cuGetErrorString)

struct CudaDriver {
#define PJIT_CUDA_DRIVER_MEMBER(name) decltype(&::name) name = nullptr;
  PJIT_CUDA_DRIVER_FUNCTIONS(PJIT_CUDA_DRIVER_MEMBER)
#undef PJIT_CUDA_DRIVER_MEMBER
  int device_count = 0;

  // The driver, initialised; kUnavailable ("no CUDA device: ...") without a driver or a GPU.
  static StatusOr<const CudaDriver*> Get();

  // OkStatus, or an error naming `what` and the driver's message.
  Status Check(CUresult result, std::string_view what) const;
};

}  // namespace pjit
