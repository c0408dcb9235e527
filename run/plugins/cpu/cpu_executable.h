// An artifact loaded on N virtual CPU devices: each device has its own arena (sized by the
// artifact's buffer plan) and its own thread that runs the thunk sequence — gemms on OpenBLAS
// over the device's oneTBB arena, collectives through shared memory at per-group rendezvous,
// native loop kernels of the "x86_64" executable (loaded from memory) split over the device's
// oneTBB arena, kernels of the "hlo" executable through the reference interpreter's per-op
// kernels. When the plan pins parameters and results, they are read and written in the
// caller's memory instead of being copied through the arena.
//
// Devices get threads of their own, not oneTBB tasks: a collective blocks until its whole
// group arrives, and with more devices than worker threads blocked tasks would starve the
// members still to come. oneTBB runs the parallel work inside each device.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tbb/task_arena.h>

#include "format/artifact.h"
#include "format/hlo_module.h"
#include "format/thunks.h"
#include "run/interpreter/collectives.h"
#include "run/plugins/cpu/native_library.h"
#include "run/plugins/cpu/rendezvous.h"
#include "run/plugins/host_plugin.h"
#include "run/plugins/thunk_plan.h"

namespace pjit {

struct EvaluationOptions;

class CpuExecutable : public HostExecutable {
 public:
  static StatusOr<std::unique_ptr<HostExecutable>> Load(std::string_view artifact, const std::string& name,
                                                        const HostClientOptions& options);

  size_t num_inputs() const override { return signature_.inputs.size(); }
  size_t num_outputs() const override { return signature_.outputs.size(); }
  size_t num_devices() const override { return arenas_.size(); }
  uint64_t arena_bytes() const override { return sequence_.arena_bytes; }
  StatusOr<std::vector<std::vector<Literal>>> Execute(const std::vector<std::vector<const Literal*>>& arguments) override;

 private:
  // Where each device meets its group for one collective thunk.
  struct CollectiveSite {
    std::vector<std::unique_ptr<Rendezvous>> groups;
    std::vector<size_t> group_of_device, rank_of_device;
    std::vector<int64_t> source_of_device;  // collective-permute: the rank it receives from, or -1
  };
  struct AlignedFree {
    void operator()(std::byte* p) const;
  };

  CpuExecutable() = default;
  Status Prepare(int64_t num_devices);
  // Writes every constant whose bytes the plan pins into each device's arena, once, and marks
  // its kernel thunk done for every execution.
  void PreloadConstants();
  Status RunDevice(size_t device, const std::vector<const Literal*>& arguments, std::vector<Literal>& results,
                   Collectives& interpreter_collectives);
  // Runs thunk list `list` (ListThunks numbering) on `device`; while and conditional thunks
  // run their nested lists.
  Status RunList(size_t device, size_t list, const EvaluationOptions& options);
  Status RunCollective(size_t thunk, const CollectiveThunk& t, size_t device);
  // Where device `device` has `slice` in this execution: its arena, or (in place) the
  // caller's input or result that the slice's region stands for.
  std::byte* Address(size_t device, const BufferSlice& slice) const;
  void Abort();

  Signature signature_;
  std::unique_ptr<Module> program_;
  ThunkSequence sequence_;
  ThunkLists lists_;                                       // sequence_'s lists; "by thunk" below is their numbering
  std::vector<const Instruction*> kernels_;                // by thunk (null: not an "hlo" kernel)
  std::vector<bool> preloaded_;                            // by thunk: a constant already in the arenas
  std::unique_ptr<NativeLibrary> native_;                  // the "x86_64" executable, if any
  std::vector<LoopKernel> loop_kernels_;                   // by thunk (null: not a native kernel)
  std::vector<std::unique_ptr<CollectiveSite>> collectives_;  // by thunk (null: not a collective)
  std::vector<std::unique_ptr<std::byte, AlignedFree>> arenas_;
  std::vector<std::unique_ptr<tbb::task_arena>> cores_;
  std::atomic<bool> aborted_{false};
  bool in_place_ = false;                   // parameters and results live in the caller's memory
  std::vector<BufferSlice> regions_;        // in place: the inputs' slices, then the results'
  std::vector<std::vector<std::byte*>> bases_;  // per device, this execution: the arena, then each region
  int64_t timeout_ms_ = 60'000;
  int64_t cores_per_device_ = 0;  // 0: the machine's cores shared out evenly
};

}  // namespace pjit
