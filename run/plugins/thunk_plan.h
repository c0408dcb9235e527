// What every platform that runs an artifact's thunk sequence checks before it trusts the plan
// (slice sizes against the program's shapes, collective groups against the device count),
// and how a collective thunk's replica groups map to devices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "format/artifact.h"
#include "format/hlo_module.h"
#include "format/status.h"
#include "format/thunks.h"

namespace pjit {

// Every thunk list of a sequence — the top level, then sequence.nested in order — and one
// numbering of all their thunks (list l's thunk i is number first[l] + i), by which platforms
// keep what they prepare per thunk.
struct ThunkLists {
  std::vector<const std::vector<Thunk>*> lists;
  std::vector<size_t> first;
  size_t count = 0;
};
ThunkLists ListThunks(const ThunkSequence& sequence);
// f(number, thunk) for every thunk of every list, in numbering order; stops at the first
// error f returns.
template <typename F>
Status ForEachThunk(const ThunkLists& lists, F f) {
  for (size_t l = 0; l < lists.lists.size(); ++l)
    for (size_t t = 0; t < lists.lists[l]->size(); ++t) PJIT_RETURN_IF_ERROR(f(lists.first[l] + t, (*lists.lists[l])[t]));
  return OkStatus();
}
// The ListThunks number of nested list `nested` (the top level is list 0).
inline size_t ListNumber(uint32_t nested) { return static_cast<size_t>(nested) + 1; }

// The branch a conditional takes for the bytes of its index (a pred, or an s32 where one out
// of range takes the last branch).
size_t ConditionalBranch(const ConditionalThunk& c, const std::byte* index);

// The instructions that "hlo" kernels run, by kernel name: an entry instruction's name, or
// "COMPUTATION/NAME" for one of a while's or conditional's computations.
class KernelInstructions {
 public:
  explicit KernelInstructions(const Module* program);  // null: no kernels
  const Instruction* Find(std::string_view kernel) const;

 private:
  std::unordered_map<std::string, const Instruction*> by_name_;
};

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

// By thunk number: whether the thunk is an "hlo" kernel of a constant (`kernels`: the
// instruction each such kernel runs, by number) whose every slice is a pinned constant's — a
// constant buffer of the buffer table whose bytes no other buffer touches — so that its value
// may be written once at load and the thunk skipped (the plan pins constants; older plans
// share their bytes, and their constant kernels run on every execution).
std::vector<bool> PreloadableConstants(const ThunkLists& lists, const std::vector<const Instruction*>& kernels,
                                       const ThunkSequence& sequence);

// Run in place, the slices of the parameters and then of the results (the regions that live
// in the caller's buffers) and, for slice `s`, the region holding it and its offset there;
// nullopt: `s` lies in the arena.
std::vector<BufferSlice> PinnedRegions(const ThunkSequence& sequence);
std::optional<std::pair<size_t, uint64_t>> FindRegion(const std::vector<BufferSlice>& regions, const BufferSlice& s);

}  // namespace pjit
