#include "run/plugins/cuda/cuda_driver.h"

#include <dlfcn.h>

#include <string>

namespace pjit {
namespace {

#define PJIT_CUDA_STRINGIFY_EXPANDED(name) #name
#define PJIT_CUDA_SYMBOL(name) PJIT_CUDA_STRINGIFY_EXPANDED(name)

StatusOr<CudaDriver> LoadDriver() {
  void* library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) return Unavailable("no CUDA device: cannot load the NVIDIA driver's libcuda.so.1 (", dlerror(), ")");
  CudaDriver d;
  const char* missing = nullptr;
#define PJIT_CUDA_DRIVER_LOAD(name)                                                           \
  d.name = reinterpret_cast<decltype(d.name)>(dlsym(library, PJIT_CUDA_SYMBOL(name))); \
  if (!d.name && !missing) missing = PJIT_CUDA_SYMBOL(name);
  PJIT_CUDA_DRIVER_FUNCTIONS(PJIT_CUDA_DRIVER_LOAD)
#undef PJIT_CUDA_DRIVER_LOAD
  if (missing) return Unavailable("no CUDA device: the NVIDIA driver's libcuda.so.1 has no ", missing, " (driver too old)");
  if (CUresult r = d.cuInit(0); r != CUDA_SUCCESS) {
    const char* message = nullptr;
    d.cuGetErrorString(r, &message);
    return Unavailable("no CUDA device: cuInit: ", message ? message : "unknown error");
  }
  if (d.cuDeviceGetCount(&d.device_count) != CUDA_SUCCESS || d.device_count == 0)
    return Unavailable("no CUDA device: the NVIDIA driver sees no GPU");
  return d;  // the library stays loaded for the life of the process
}

}  // namespace

StatusOr<const CudaDriver*> CudaDriver::Get() {
  static const StatusOr<CudaDriver>* driver = new StatusOr<CudaDriver>(LoadDriver());  // once, never freed
  if (!driver->ok()) return driver->status();
  return &**driver;
}

Status CudaDriver::Check(CUresult result, std::string_view what) const {
  if (result == CUDA_SUCCESS) return OkStatus();
  const char* message = nullptr;
  cuGetErrorString(result, &message);
  return Internal(what, ": ", message ? std::string(message) : "CUDA error " + std::to_string(static_cast<int>(result)));
}

}  // namespace pjit
