#include "run/plugins/thunk_plan.h"

#include <algorithm>
#include <cstring>

namespace pjit {
namespace {

uint64_t LeafBytes(const Shape& leaf) { return static_cast<uint64_t>(leaf.ByteSize()); }

// Whether each of `slices` is the slice of one constant buffer of the table whose bytes no
// other buffer touches.
std::vector<bool> SlicesOfPinnedConstants(const ThunkSequence& sequence, const std::vector<BufferSlice>& slices) {
  std::vector<bool> pinned(slices.size(), false);
  if (slices.empty()) return pinned;
  // Every buffer by offset, with the furthest end among those up to it, so that the buffers
  // overlapping a slice are found from where the prefix's end passes its start.
  std::vector<const BufferInfo*> by_offset;
  for (const BufferInfo& b : sequence.buffers)
    if (b.slice.size) by_offset.push_back(&b);
  std::sort(by_offset.begin(), by_offset.end(), [](const BufferInfo* a, const BufferInfo* b) { return a->slice.offset < b->slice.offset; });
  std::vector<uint64_t> reach(by_offset.size());
  for (size_t i = 0; i < by_offset.size(); ++i)
    reach[i] = std::max(i ? reach[i - 1] : 0, by_offset[i]->slice.offset + by_offset[i]->slice.size);
  for (size_t k = 0; k < slices.size(); ++k) {
    const BufferSlice& s = slices[k];
    if (!s.size) continue;
    size_t i = static_cast<size_t>(std::lower_bound(reach.begin(), reach.end(), s.offset + 1) - reach.begin());
    int owners = 0;
    bool own = true;
    for (; i < by_offset.size() && by_offset[i]->slice.offset < s.offset + s.size; ++i) {
      const BufferInfo& b = *by_offset[i];
      if (b.slice.offset + b.slice.size <= s.offset) continue;
      own = own && b.slice == s && b.kind == BufferInfo::Kind::kConstant && ++owners == 1;
    }
    pinned[k] = own && owners == 1;
  }
  return pinned;
}

}  // namespace

ThunkLists ListThunks(const ThunkSequence& sequence) {
  ThunkLists out;
  out.lists.push_back(&sequence.thunks);
  for (const std::vector<Thunk>& l : sequence.nested) out.lists.push_back(&l);
  for (const std::vector<Thunk>* l : out.lists) {
    out.first.push_back(out.count);
    out.count += l->size();
  }
  return out;
}

size_t ConditionalBranch(const ConditionalThunk& c, const std::byte* index) {
  if (c.predicate) return *index != std::byte{0} ? 0 : 1;
  int32_t i;
  std::memcpy(&i, index, sizeof i);
  return i < 0 || static_cast<size_t>(i) >= c.branches.size() ? c.branches.size() - 1 : static_cast<size_t>(i);
}

KernelInstructions::KernelInstructions(const Module* program) {
  if (!program) return;
  for (const auto& c : program->computations)
    for (const auto& in : c->instructions)
      by_name_.emplace(c.get() == program->entry ? in->name : c->name + "/" + in->name, in.get());
}

const Instruction* KernelInstructions::Find(std::string_view kernel) const {
  auto found = by_name_.find(std::string(kernel));
  return found == by_name_.end() ? nullptr : found->second;
}

uint64_t CollectiveElements(const CollectiveThunk& t) {
  uint64_t n = 1;
  for (int64_t d : t.dims) n *= static_cast<uint64_t>(d);
  return n;
}

Status CheckKernelSlices(const Instruction& instr, const KernelThunk& k) {
  std::vector<uint64_t> want;
  for (const Instruction* o : instr.operands)
    for (const Shape* leaf : LeafShapes(o->shape)) want.push_back(LeafBytes(*leaf));
  for (const Shape* leaf : LeafShapes(instr.shape)) want.push_back(LeafBytes(*leaf));
  if (want.size() != k.arguments.size()) return InvalidArgument("kernel ", k.kernel, ": ", k.arguments.size(), " slices, expected ", want.size());
  for (size_t i = 0; i < want.size(); ++i)
    if (want[i] != k.arguments[i].size)
      return InvalidArgument("kernel ", k.kernel, ": slice ", i, " of ", k.arguments[i].size, " bytes, expected ", want[i]);
  return OkStatus();
}

Status CheckArraySlices(const std::vector<ArrayInfo>& arrays, const std::vector<BufferSlice>& slices, const char* what) {
  if (arrays.size() != slices.size()) return InvalidArgument(slices.size(), " ", what, " slices for ", arrays.size(), " ", what, "s");
  for (size_t i = 0; i < arrays.size(); ++i) {
    uint64_t want = LeafBytes(Shape::Array(arrays[i].shape.dtype, arrays[i].shard_shape.dims));
    if (slices[i].size != want) return InvalidArgument(what, " ", i, ": slice of ", slices[i].size, " bytes, expected ", want);
  }
  return OkStatus();
}

Status CheckCollectiveSizes(const CollectiveThunk& t, size_t g) {
  uint64_t in = CollectiveElements(t) * static_cast<uint64_t>(DTypeByteSize(t.dtype)), out = in;
  uint64_t extent = t.dims.empty() ? 1 : static_cast<uint64_t>(t.dims[static_cast<size_t>(t.dimension)]);
  if (t.kind == "all-gather") {
    out = in * g;
  } else if (t.kind == "reduce-scatter" || t.kind == "all-to-all") {
    if (t.dims.empty() || extent % g) return InvalidArgument(t.name, ": dimension of ", extent, " does not split ", g, " ways");
    if (t.kind == "reduce-scatter") out = in / g;
  }
  for (const BufferSlice& s : t.inputs)
    if (s.size != in) return InvalidArgument(t.name, ": input slice of ", s.size, " bytes, expected ", in);
  for (const BufferSlice& s : t.outputs)
    if (s.size != out) return InvalidArgument(t.name, ": output slice of ", s.size, " bytes, expected ", out);
  return OkStatus();
}

CollectiveSplit SplitAtDimension(const CollectiveThunk& t) {
  CollectiveSplit s;
  s.inner = static_cast<uint64_t>(DTypeByteSize(t.dtype));
  if (t.dims.empty()) return s;
  for (int64_t i = 0; i < t.dimension; ++i) s.outer *= static_cast<uint64_t>(t.dims[static_cast<size_t>(i)]);
  s.extent = static_cast<uint64_t>(t.dims[static_cast<size_t>(t.dimension)]);
  for (size_t i = static_cast<size_t>(t.dimension) + 1; i < t.dims.size(); ++i) s.inner *= static_cast<uint64_t>(t.dims[i]);
  return s;
}

StatusOr<CollectiveGroups> LayOutCollective(const CollectiveThunk& c, int64_t n) {
  CollectiveGroups out;
  out.group_of_device.assign(static_cast<size_t>(n), SIZE_MAX);
  out.rank_of_device.assign(static_cast<size_t>(n), 0);
  out.source_of_device.assign(static_cast<size_t>(n), -1);
  out.groups = c.replica_groups;
  if (out.groups.empty() || c.kind == "collective-permute") {
    out.groups.assign(1, {});
    for (int64_t d = 0; d < n; ++d) out.groups[0].push_back(d);
  }
  for (size_t g = 0; g < out.groups.size(); ++g) {
    for (size_t r = 0; r < out.groups[g].size(); ++r) {
      int64_t d = out.groups[g][r];
      if (d < 0 || d >= n) return InvalidArgument(c.name, ": replica group names device ", d, " of ", n);
      if (out.group_of_device[static_cast<size_t>(d)] != SIZE_MAX) return InvalidArgument(c.name, ": device ", d, " is in two replica groups");
      out.group_of_device[static_cast<size_t>(d)] = g;
      out.rank_of_device[static_cast<size_t>(d)] = r;
    }
    PJIT_RETURN_IF_ERROR(CheckCollectiveSizes(c, out.groups[g].size()));
  }
  for (int64_t d = 0; d < n; ++d)
    if (out.group_of_device[static_cast<size_t>(d)] == SIZE_MAX) return InvalidArgument(c.name, ": device ", d, " is in no replica group");
  for (const auto& [source, target] : c.source_target_pairs) {
    if (source < 0 || source >= n || target < 0 || target >= n)
      return InvalidArgument(c.name, ": source-target pair {", source, ",", target, "} outside the ", n, " devices");
    if (out.source_of_device[static_cast<size_t>(target)] != -1) return InvalidArgument(c.name, ": device ", target, " receives twice");
    out.source_of_device[static_cast<size_t>(target)] = source;
  }
  return out;
}

bool PinsParametersAndResults(const ThunkSequence& sequence) {
  if (sequence.buffers.empty()) return false;
  std::vector<BufferSlice> pinned = PinnedRegions(sequence);
  auto overlap = [](const BufferSlice& a, const BufferSlice& b) {
    return a.size && b.size && a.offset < b.offset + b.size && b.offset < a.offset + a.size;
  };
  for (size_t i = 0; i < pinned.size(); ++i) {
    for (size_t j = 0; j < i; ++j)
      if (overlap(pinned[i], pinned[j])) return false;
    int owners = 0;
    for (const BufferInfo& b : sequence.buffers)
      if (overlap(b.slice, pinned[i])) {
        bool own = b.slice == pinned[i] && (b.kind == BufferInfo::Kind::kParameter || b.kind == BufferInfo::Kind::kOutput);
        if (!own || ++owners > 1) return false;
      }
  }
  return true;
}

std::vector<bool> PreloadableConstants(const ThunkLists& lists, const std::vector<const Instruction*>& kernels,
                                       const ThunkSequence& sequence) {
  std::vector<bool> preloadable(lists.count, false);
  std::vector<BufferSlice> slices;
  std::vector<std::pair<size_t, size_t>> thunks;  // number, slices
  (void)ForEachThunk(lists, [&](size_t i, const Thunk& thunk) {
    if (kernels[i] && kernels[i]->opcode == Opcode::kConstant) {
      const auto& k = std::get<KernelThunk>(thunk);
      thunks.emplace_back(i, k.arguments.size());
      slices.insert(slices.end(), k.arguments.begin(), k.arguments.end());
    }
    return OkStatus();
  });
  const std::vector<bool> pinned = SlicesOfPinnedConstants(sequence, slices);
  size_t next = 0;
  for (const auto& [i, count] : thunks) {
    const size_t first = next;
    next += count;
    preloadable[i] = std::all_of(pinned.begin() + static_cast<std::ptrdiff_t>(first), pinned.begin() + static_cast<std::ptrdiff_t>(next),
                                 [](bool p) { return p; });
  }
  return preloadable;
}

std::vector<BufferSlice> PinnedRegions(const ThunkSequence& sequence) {
  std::vector<BufferSlice> regions = sequence.parameters;
  regions.insert(regions.end(), sequence.results.begin(), sequence.results.end());
  return regions;
}

std::optional<std::pair<size_t, uint64_t>> FindRegion(const std::vector<BufferSlice>& regions, const BufferSlice& s) {
  for (size_t r = 0; r < regions.size(); ++r) {
    const BufferSlice& region = regions[r];
    if (region.size && s.offset >= region.offset && s.offset + s.size <= region.offset + region.size)
      return std::make_pair(r, s.offset - region.offset);
  }
  return std::nullopt;
}

}  // namespace pjit
