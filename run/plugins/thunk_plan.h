// What every platform that runs an artifact's thunk sequence checks before it trusts the plan
// (slice sizes against the program's shapes, collective groups against the device count),
// and how a collective thunk's replica groups map to devices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "format/artifact.h"
#include "format/hlo_module.h"
#include "format/status.h"
#include "format/thunks.h"

namespace pjit {

// The slices a kernel of `instr` needs: its operands' leaves, then its result's.
Status CheckKernelSlices(const Instruction& instr, const KernelThunk& k);

// Each of `arrays` (inputs or outputs, `what` names them) has the slice of its shard's size.
Status CheckArraySlices(const std::vector<ArrayInfo>& arrays, const std::vector<BufferSlice>& slices, const char* what);

// The elements of one input of `t` (the product of its dims).
uint64_t CollectiveElements(const CollectiveThunk& t);

// The bytes each input and output slice of `t` must have for a group of `group_size`.
Status CheckCollectiveSizes(const CollectiveThunk& t, size_t group_size);

// A collective's input around its dimension: the rows before it (outer), its extent, and
// the bytes of one element of it (inner: the dims after it times the element size).
struct CollectiveSplit {
  uint64_t outer = 1, extent = 1, inner = 1;
};
CollectiveSplit SplitAtDimension(const CollectiveThunk& t);

// The groups of a collective over `num_devices` devices (every device when none are given,
// and for collective-permute), each device's group and rank in it, and for
// collective-permute the device each device receives from (-1: none, its output is zeros).
struct CollectiveGroups {
  std::vector<std::vector<int64_t>> groups;
  std::vector<size_t> group_of_device, rank_of_device;
  std::vector<int64_t> source_of_device;
};
StatusOr<CollectiveGroups> LayOutCollective(const CollectiveThunk& t, int64_t num_devices);

// Whether the plan pins every parameter and result: the buffer table shows no other buffer
// in their bytes (plans written before pinning reuse them for temporaries), so a platform may
// run them in place, in the caller's buffers.
bool PinsParametersAndResults(const ThunkSequence& sequence);

// Run in place, the slices of the parameters and then of the results (the regions that live
// in the caller's buffers) and, for slice `s`, the region holding it and its offset there;
// nullopt: `s` lies in the arena.
std::vector<BufferSlice> PinnedRegions(const ThunkSequence& sequence);
std::optional<std::pair<size_t, uint64_t>> FindRegion(const std::vector<BufferSlice>& regions, const BufferSlice& s);

}  // namespace pjit
