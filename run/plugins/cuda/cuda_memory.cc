#include "run/plugins/cuda/cuda_memory.h"

namespace pjit {

StatusOr<std::unique_ptr<CudaMemory>> CudaMemory::Allocate(int64_t device, size_t size, CUstream stream) {
  PJIT_ASSIGN_OR_RETURN(const CudaDriver* cu, CudaDriver::Get());
  if (device < 0 || device >= cu->device_count) return InvalidArgument("cuda: no GPU ", device, " (the driver sees ", cu->device_count, ")");
  CUdevice gpu = 0;
  CUcontext context = nullptr;
  PJIT_RETURN_IF_ERROR(cu->Check(cu->cuDeviceGet(&gpu, static_cast<int>(device)), "cuDeviceGet"));
  PJIT_RETURN_IF_ERROR(cu->Check(cu->cuDevicePrimaryCtxRetain(&context, gpu), "cuDevicePrimaryCtxRetain"));
  std::unique_ptr<CudaMemory> memory(new CudaMemory(*cu, gpu, context));
  PJIT_RETURN_IF_ERROR(cu->Check(cu->cuCtxSetCurrent(context), "cuCtxSetCurrent"));
  if (size) {
    PJIT_RETURN_IF_ERROR(cu->Check(cu->cuMemAllocAsync(&memory->address_, size, stream), StrCat("allocating ", size, " bytes on GPU ", device)));
    if (!stream) PJIT_RETURN_IF_ERROR(cu->Check(cu->cuStreamSynchronize(nullptr), "cuStreamSynchronize"));  // usable by any stream now
  }
  memory->size_ = size;
  return memory;
}

CudaMemory::~CudaMemory() {
  if (address_) {
    cu_.cuCtxSetCurrent(context_);
    cu_.cuMemFreeAsync(address_, nullptr);  // in the null stream's order: after everything synchronised with it
  }
  cu_.cuDevicePrimaryCtxRelease(gpu_);
}

Status CudaMemory::CopyToHost(void* destination, size_t size) const {
  if (size != size_) return InvalidArgument("cuda: the buffer holds ", size_, " bytes, the destination ", size);
  if (!size) return OkStatus();
  PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuCtxSetCurrent(context_), "cuCtxSetCurrent"));
  return cu_.Check(cu_.cuMemcpyDtoH(destination, address_, size), "copying a buffer to the host");
}

StatusOr<std::unique_ptr<DeviceMemory>> CudaMemory::Upload(int64_t device, const void* data, size_t size) {
  PJIT_ASSIGN_OR_RETURN(std::unique_ptr<CudaMemory> memory, CudaMemory::Allocate(device, size));
  if (size) PJIT_RETURN_IF_ERROR(memory->cu_.Check(memory->cu_.cuMemcpyHtoD(memory->address_, data, size), "copying a buffer to the GPU"));
  return std::unique_ptr<DeviceMemory>(std::move(memory));
}

}  // namespace pjit
