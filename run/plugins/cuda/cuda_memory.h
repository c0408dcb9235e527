// Arrays in a GPU's own memory: the cuda platform's buffers. Each allocation keeps its GPU's
// primary context retained, so that it can be freed after every executable is gone.
#pragma once

#include <cuda.h>

#include <cstdint>
#include <memory>

#include "run/plugins/cuda/cuda_driver.h"
#include "run/plugins/host_plugin.h"

namespace pjit {

class CudaMemory : public DeviceMemory {
 public:
  // `size` bytes of GPU `device`'s memory (plain cuMemAlloc; none for 0 bytes).
  static StatusOr<std::unique_ptr<CudaMemory>> Allocate(int64_t device, size_t size);
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
