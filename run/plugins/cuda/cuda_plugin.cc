// The `cuda` platform: one device per GPU (see cuda_executable.h), buffers in the GPUs' memory
// (cuda_memory.h). Without the NVIDIA driver or a GPU the plugin still loads, and creating a
// client fails with "no CUDA device".
#include "run/plugins/cuda/cuda_executable.h"
#include "run/plugins/cuda/cuda_memory.h"
#include "run/plugins/host_plugin.h"

namespace pjit {
namespace {

const DeviceMemoryOps kCudaMemory{CudaMemory::Upload};
const HostPlatform kCuda{"cuda", "cuda", 1, CudaExecutable::Load, CudaExecutable::CheckDevices, &kCudaMemory};

}  // namespace
}  // namespace pjit

extern "C" __attribute__((visibility("default"))) const PJIT_Api* PJIT_GetApi(void) { return pjit::HostPluginApi(&pjit::kCuda); }
