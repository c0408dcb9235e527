// Collective thunks on NCCL, one communicator per GPU and per set of replica groups, each
// device calling from its own thread. A collective along a dimension other than the first
// (all-gather, reduce-scatter, all-to-all) is staged: strided copies arrange the chunks NCCL
// moves contiguously, in a staging area of NcclStagingBytes.
#pragma once

#include <cuda.h>
#include <nccl.h>

#include <functional>
#include <memory>
#include <vector>

#include "format/status.h"
#include "format/thunks.h"
#include "run/plugins/cuda/cuda_driver.h"
#include "run/plugins/thunk_plan.h"

namespace pjit {

class NcclCommunicators {
 public:
  // Communicators over GPUs 0 .. n-1 (rank = device id) for every collective thunk;
  // `collectives` and `layouts` by thunk number (null: not a collective).
  static StatusOr<std::unique_ptr<NcclCommunicators>> Create(const std::vector<const CollectiveThunk*>& collectives,
                                                             const std::vector<const CollectiveGroups*>& layouts, int64_t n);
  ~NcclCommunicators();
  // Makes every device blocked in a collective return (after a device failed).
  void Abort();
  ncclComm_t For(size_t thunk, size_t device) const { return sets_[set_of_thunk_[thunk]][device]; }

 private:
  NcclCommunicators() = default;
  std::vector<std::vector<ncclComm_t>> sets_;  // [0]: every device; then one per replica-group set
  std::vector<size_t> set_of_thunk_;
  bool aborted_ = false;
};

// The staging bytes a device needs for `t` in a group of `group_size`.
uint64_t NcclStagingBytes(const CollectiveThunk& t, size_t group_size);

// Where a slice of the plan is on a GPU during one execution.
using GpuSliceAddress = std::function<CUdeviceptr(const BufferSlice&)>;

// Enqueues device `device`'s part of `t` on `stream`.
Status RunNcclCollective(const CudaDriver& cu, const CollectiveThunk& t, const CollectiveGroups& layout, size_t device,
                         ncclComm_t comm, const GpuSliceAddress& address, CUdeviceptr staging, CUstream stream);

}  // namespace pjit
