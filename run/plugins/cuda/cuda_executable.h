// An artifact loaded on N GPUs (device d is GPU d of the driver): each device has its primary
// context, a stream, its arena in device memory (sized by the artifact's buffer plan), and a
// thread that enqueues the thunk sequence on its stream — loop kernels from the cubin for its
// architecture (else the PTX, which the driver compiles), gemms on cuBLAS, collectives on
// NCCL, copies as device-to-device copies. Kernels of the "hlo" executable (ops without GPU
// code) run on the host through the reference interpreter: their operands come back from the
// device and their result goes there again, which is slow and exact. Inputs and outputs are
// buffers in the GPU's memory (CudaMemory) that the thunks read and write in place where the
// plan pins them (else they are copied into and out of the arena on the GPU).
#pragma once

#include <cublas_v2.h>
#include <cuda.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "format/artifact.h"
#include "format/hlo_module.h"
#include "format/thunks.h"
#include "run/interpreter/collectives.h"
#include "run/plugins/cuda/cuda_driver.h"
#include "run/plugins/cuda/nccl_collectives.h"
#include "run/plugins/host_plugin.h"
#include "run/plugins/thunk_plan.h"

namespace pjit {

class CudaExecutable : public HostExecutable {
 public:
  static StatusOr<std::unique_ptr<HostExecutable>> Load(std::string_view artifact, const std::string& name,
                                                        const HostClientOptions& options);
  // A client may have `num_devices` devices: the driver loads and has that many GPUs.
  static Status CheckDevices(int64_t num_devices);
  ~CudaExecutable() override;

  size_t num_inputs() const override { return signature_.inputs.size(); }
  size_t num_outputs() const override { return signature_.outputs.size(); }
  size_t num_devices() const override { return devices_.size(); }
  uint64_t arena_bytes() const override { return sequence_.arena_bytes; }
  StatusOr<std::vector<std::vector<DeviceResult>>> ExecuteOnDevices(const std::vector<std::vector<const DeviceMemory*>>& arguments) override;

 private:
  struct Device {
    CUdevice gpu = 0;
    CUcontext context = nullptr;
    CUstream stream = nullptr;
    CUdeviceptr arena = 0, staging = 0, tables = 0;
    CUmodule module = nullptr;
    std::vector<CUfunction> functions;  // by thunk (null: not a loop kernel)
    std::vector<CUdeviceptr> tables_of_thunk;  // by thunk: its argument table (device addresses)
    std::vector<CUdeviceptr> table_values;     // what the tables hold now: every loop kernel's arguments in order
    cublasHandle_t blas = nullptr;
  };

  explicit CudaExecutable(const CudaDriver& cu) : cu_(cu) {}
  Status Prepare(const ThunkPlan& plan, int64_t num_devices);
  Status PrepareDevice(size_t device, const ThunkPlan& plan, uint64_t staging_bytes, bool gemms);
  Status RunDevice(size_t device, const std::vector<const DeviceMemory*>& arguments, std::vector<DeviceResult>& results,
                   Collectives& interpreter_collectives);
  Status RunHostKernel(size_t device, const KernelThunk& k, const Instruction& instr, const GpuSliceAddress& address,
                       Collectives& interpreter_collectives);
  Status RunGemm(Device& d, const GemmThunk& g, const GpuSliceAddress& address);
  // Enqueues thunk list `list` (ListThunks numbering) on the device's stream; while and
  // conditional thunks wait for the value that decides and run their nested lists.
  Status RunList(size_t device, size_t list, const GpuSliceAddress& address, Collectives& interpreter_collectives);
  // One byte of device memory, once the stream's work so far is done.
  StatusOr<std::byte> ReadByte(Device& d, CUdeviceptr address);
  // The loop kernels' arguments, in the order of the devices' argument tables.
  std::vector<CUdeviceptr> TableValues(const GpuSliceAddress& address) const;

  const CudaDriver& cu_;
  Signature signature_;
  std::unique_ptr<Module> program_;
  ThunkSequence sequence_;
  ThunkLists lists_;                              // sequence_'s lists; "by thunk" below is their numbering
  std::vector<const Instruction*> host_kernels_;  // by thunk: "hlo" kernels (null: not one)
  std::vector<bool> preloaded_;                   // by thunk: a constant uploaded at load
  std::vector<std::string> symbols_;              // by thunk: a loop kernel's PTX symbol ("": not one)
  std::vector<uint64_t> threads_;                 // by thunk: the threads a loop kernel's launch runs
  std::vector<std::unique_ptr<CollectiveGroups>> groups_;  // by thunk (null: not a collective)
  std::unique_ptr<NcclCommunicators> nccl_;
  std::vector<Device> devices_;
  bool in_place_ = false;             // the plan pins parameters and results: run in the caller's buffers
  std::vector<BufferSlice> regions_;  // in place: the parameters' slices, then the results'
  int64_t timeout_ms_ = 60'000;
  bool broken_ = false;  // an execution failed and aborted the communicators
};

}  // namespace pjit
