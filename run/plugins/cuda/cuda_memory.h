// Arrays in a GPU's own memory: the cuda platform's buffers, from the GPU's default memory pool
// (stream-ordered cuMemAllocAsync, which reuses freed memory without the cost of cuMemAlloc and
// cuMemFree at every execution; never managed memory). Each allocation keeps its GPU's primary
// context retained, so that it can be freed after every executable is gone.
#pragma once

#include <cuda.h>

#include <cstdint>
#include <memory>

#include "run/plugins/cuda/cuda_driver.h"
#include "run/plugins/host_plugin.h"

namespace pjit {

class CudaMemory : public DeviceMemory {
 public:
  // `size` bytes of GPU `device`'s memory (none for 0 bytes), usable in `stream`'s order
  // (the null stream: once the call returns).
  static StatusOr<std::unique_ptr<CudaMemory>> Allocate(int64_t device, size_t size, CUstream stream = nullptr);
  // DeviceMemoryOps::upload of the cuda platform: `size` bytes of host `data` in a new allocation.
  static StatusOr<std::unique_ptr<DeviceMemory>> Upload(int64_t device, const void* data, size_t size);
  ~CudaMemory() override;
  CudaMemory(const CudaMemory&) = delete;
  CudaMemory& operator=(const CudaMemory&) = delete;

  Status CopyToHost(void* destination, size_t size) const override;
  CUdeviceptr address() const { return address_; }
  size_t size() const { return size_; }

 private:
  CudaMemory(const CudaDriver& cu, CUdevice gpu, CUcontext context) : cu_(cu), gpu_(gpu), context_(context) {}
  const CudaDriver& cu_;
  CUdevice gpu_;
  CUcontext context_;
  CUdeviceptr address_ = 0;
  size_t size_ = 0;
};

}  // namespace pjit
