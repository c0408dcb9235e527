#include "run/plugins/cpu/cpu_executable.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <optional>
#include <thread>
#include <unordered_map>

#include "format/artifact_reader.h"
#include "format/parallel.h"
#include "run/interpreter/evaluator.h"
#include "run/plugins/cpu/collective_ops.h"
#include "run/plugins/cpu/cpu_features.h"
#include "run/plugins/cpu/gemm.h"

namespace pjit {
namespace {

constexpr std::align_val_t kArenaAlignment{64};

uint64_t LeafBytes(const Shape& leaf) { return static_cast<uint64_t>(leaf.ByteSize()); }

// Copies between a value's leaves and consecutive arena slices starting at slices[next].
void LoadLeaves(Literal& value, const std::byte* arena, const std::vector<BufferSlice>& slices, size_t& next) {
  if (value.shape().IsTuple()) {
    for (Literal& e : value.elements()) LoadLeaves(e, arena, slices, next);
    return;
  }
  const BufferSlice& s = slices[next++];
  if (s.size) std::memcpy(value.bytes().data(), arena + s.offset, s.size);
}

void StoreLeaves(const Literal& value, std::byte* arena, const std::vector<BufferSlice>& slices, size_t& next) {
  if (value.shape().IsTuple()) {
    for (const Literal& e : value.elements()) StoreLeaves(e, arena, slices, next);
    return;
  }
  const BufferSlice& s = slices[next++];
  if (s.size) std::memcpy(arena + s.offset, value.bytes().data(), s.size);
}

// The slices a kernel of `instr` needs: its operands' leaves, then its result's.
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

// Rows split over the device's cores, each part writing at least 64 KiB.
void RunLoopKernel(LoopKernel kernel, const KernelThunk& k, std::byte* arena, tbb::task_arena& cores) {
  std::vector<void*> arguments;
  for (const BufferSlice& s : k.arguments) arguments.push_back(arena + s.offset);
  const int64_t rows = static_cast<int64_t>(k.launch[0]);
  const uint64_t bytes = k.arguments.back().size;
  const int64_t parts = std::min<int64_t>({cores.max_concurrency(), rows, std::max<int64_t>(1, static_cast<int64_t>(bytes >> 16))});
  if (parts <= 1) {
    kernel(arguments.data(), 0, rows);
    return;
  }
  ParallelParts(parts, &cores, [&](int64_t p) { kernel(arguments.data(), rows * p / parts, rows * (p + 1) / parts); });
}

}  // namespace

void CpuExecutable::AlignedFree::operator()(std::byte* p) const { ::operator delete[](p, kArenaAlignment); }

StatusOr<std::unique_ptr<HostExecutable>> CpuExecutable::Load(std::string_view artifact, const std::string& name,
                                                              const HostClientOptions& options) {
  PJIT_ASSIGN_OR_RETURN(std::unique_ptr<ArtifactReader> reader, ArtifactReader::FromBytes(std::string(artifact), name));
  PJIT_ASSIGN_OR_RETURN(ThunkPlan plan, reader->LoadThunks());
  if (plan.sequences.empty())
    return InvalidArgument(name, ": section 'thunks': absent (the cpu platform runs the thunk sequence; recompile with this pjit-compile)");
  if (plan.sequences.size() != 1 || plan.sequences[0].device != -1)
    return Unimplemented(name, ": section 'thunks': per-device thunk sequences are not supported by this cpu platform");
  PJIT_ASSIGN_OR_RETURN(std::vector<LoadedDeviceProgram> programs, reader->LoadDevicePrograms());
  std::unique_ptr<CpuExecutable> e(new CpuExecutable());
  e->signature_ = reader->signature();
  e->sequence_ = std::move(plan.sequences[0]);
  e->timeout_ms_ = options.timeout_ms;
  bool has_kernels = std::any_of(e->sequence_.thunks.begin(), e->sequence_.thunks.end(),
                                 [](const Thunk& t) { return std::holds_alternative<KernelThunk>(t); });
  if (has_kernels) {
    if (programs.size() != 1) return InvalidArgument(name, ": section 'device_programs': the cpu platform needs exactly one program");
    e->program_ = std::move(programs[0].module);
  }
  std::vector<bool> native(plan.executables.size(), false);
  for (size_t i = 0; i < plan.executables.size(); ++i) {
    const ExecutableInfo& x = plan.executables[i];
    if (x.format == "hlo") continue;
    if (x.target != "x86_64" || x.format != "elf")
      return Unimplemented(name, ": section 'executables': target '", x.target, "' (format '", x.format,
                           "') is not supported by this cpu platform");
    if (e->native_) return InvalidArgument(name, ": section 'executables': two x86_64 executables");
    PJIT_RETURN_IF_ERROR(CheckCpuFeatures(x, name));
    PJIT_ASSIGN_OR_RETURN(e->native_, NativeLibrary::Load(x.binary, name));
    native[i] = true;
  }
  e->loop_kernels_.assign(e->sequence_.thunks.size(), nullptr);
  for (size_t i = 0; i < e->sequence_.thunks.size(); ++i)
    if (const auto* k = std::get_if<KernelThunk>(&e->sequence_.thunks[i]); k && native[k->executable]) {
      if (k->launch.size() != 1) return InvalidArgument(name, ": section 'thunks': kernel ", k->kernel, " needs launch = {rows}");
      PJIT_ASSIGN_OR_RETURN(e->loop_kernels_[i], e->native_->Kernel(k->kernel));
    }
  Status prepared = e->Prepare(reader->mesh().device_count());
  if (!prepared.ok()) return Status(prepared.code(), StrCat(name, ": section 'thunks': ", prepared.message()));
  return std::unique_ptr<HostExecutable>(std::move(e));
}

Status CpuExecutable::Prepare(int64_t n) {
  PJIT_RETURN_IF_ERROR(CheckArraySlices(signature_.inputs, sequence_.parameters, "input"));
  PJIT_RETURN_IF_ERROR(CheckArraySlices(signature_.outputs, sequence_.results, "output"));
  size_t count = sequence_.thunks.size();
  kernels_.assign(count, nullptr);
  std::unordered_map<std::string_view, const Instruction*> by_name;
  if (program_)
    for (const auto& instr : program_->entry->instructions) by_name.emplace(instr->name, instr.get());
  collectives_.resize(count);
  for (size_t i = 0; i < count; ++i) {
    const Thunk& thunk = sequence_.thunks[i];
    if (loop_kernels_[i]) continue;
    if (const auto* k = std::get_if<KernelThunk>(&thunk)) {
      auto found = by_name.find(k->kernel);
      if (found != by_name.end()) kernels_[i] = found->second;
      if (!kernels_[i] || kernels_[i]->opcode == Opcode::kParameter)
        return InvalidArgument("thunk ", i, ": the device program has no instruction '", k->kernel, "' to run");
      PJIT_RETURN_IF_ERROR(CheckKernelSlices(*kernels_[i], *k));
    } else if (const auto* c = std::get_if<CollectiveThunk>(&thunk)) {
      auto site = std::make_unique<CollectiveSite>();
      site->group_of_device.assign(static_cast<size_t>(n), SIZE_MAX);
      site->rank_of_device.assign(static_cast<size_t>(n), 0);
      site->source_of_device.assign(static_cast<size_t>(n), -1);
      std::vector<std::vector<int64_t>> groups = c->replica_groups;
      if (groups.empty() || c->kind == "collective-permute") {
        groups.assign(1, {});
        for (int64_t d = 0; d < n; ++d) groups[0].push_back(d);
      }
      for (size_t g = 0; g < groups.size(); ++g) {
        for (size_t r = 0; r < groups[g].size(); ++r) {
          int64_t d = groups[g][r];
          if (d < 0 || d >= n) return InvalidArgument(c->name, ": replica group names device ", d, " of ", n);
          if (site->group_of_device[static_cast<size_t>(d)] != SIZE_MAX) return InvalidArgument(c->name, ": device ", d, " is in two replica groups");
          site->group_of_device[static_cast<size_t>(d)] = g;
          site->rank_of_device[static_cast<size_t>(d)] = r;
        }
        PJIT_RETURN_IF_ERROR(CheckCollectiveSizes(*c, groups[g].size()));
        site->groups.push_back(std::make_unique<Rendezvous>(groups[g]));
      }
      for (int64_t d = 0; d < n; ++d)
        if (site->group_of_device[static_cast<size_t>(d)] == SIZE_MAX) return InvalidArgument(c->name, ": device ", d, " is in no replica group");
      for (const auto& [source, target] : c->source_target_pairs) {
        if (source < 0 || source >= n || target < 0 || target >= n)
          return InvalidArgument(c->name, ": source-target pair {", source, ",", target, "} outside the ", n, " devices");
        if (site->source_of_device[static_cast<size_t>(target)] != -1) return InvalidArgument(c->name, ": device ", target, " receives twice");
        site->source_of_device[static_cast<size_t>(target)] = source;
      }
      collectives_[i] = std::move(site);
    }
  }
  // Each device's share of the cores for the parallel work inside it.
  int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / static_cast<int>(n));
  for (int64_t d = 0; d < n; ++d) {
    arenas_.emplace_back(static_cast<std::byte*>(::operator new[](std::max<uint64_t>(sequence_.arena_bytes, 1), kArenaAlignment)));
    cores_.push_back(std::make_unique<tbb::task_arena>(cores));
  }
  InitGemm();
  return OkStatus();
}

void CpuExecutable::Abort() {
  aborted_ = true;
  for (const auto& site : collectives_)
    if (site)
      for (const auto& g : site->groups) g->Wake();
}

Status CpuExecutable::RunCollective(size_t thunk, const CollectiveThunk& t, size_t device) {
  CollectiveSite& site = *collectives_[thunk];
  Rendezvous& group = *site.groups[site.group_of_device[device]];
  size_t rank = site.rank_of_device[device];
  std::string what = StrCat(t.kind, " ", t.name, " (thunk ", thunk, ")");
  auto deadline = [&] { return std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_); };
  // First meeting: every member's inputs are written. Second: every member has read them,
  // so nobody overwrites its arena while another still reads it.
  PJIT_RETURN_IF_ERROR(group.Wait(rank, deadline(), aborted_, what));
  std::vector<std::byte*> peers;
  for (int64_t d : group.devices()) peers.push_back(arenas_[static_cast<size_t>(d)].get());
  pjit::RunCollective(t, peers, rank, site.source_of_device[device]);
  return group.Wait(rank, deadline(), aborted_, what);
}

Status CpuExecutable::RunDevice(size_t device, const std::vector<const Literal*>& arguments, std::vector<Literal>& results,
                                Collectives& interpreter_collectives) {
  std::byte* arena = arenas_[device].get();
  for (size_t i = 0; i < arguments.size(); ++i) {
    const BufferSlice& s = sequence_.parameters[i];
    if (arguments[i]->bytes().size() != s.size)
      return InvalidArgument("input ", i, " is ", arguments[i]->shape().ToString(false), " (", arguments[i]->bytes().size(),
                             " bytes), the device expects ", s.size, " bytes");
    if (s.size) std::memcpy(arena + s.offset, arguments[i]->bytes().data(), s.size);
  }
  EvaluationOptions options;
  options.partition_id = static_cast<int64_t>(device);
  options.collectives = &interpreter_collectives;
  for (size_t i = 0; i < sequence_.thunks.size(); ++i) {
    if (aborted_) return Status(StatusCode::kInternal, "aborted");
    const Thunk& thunk = sequence_.thunks[i];
    if (LoopKernel kernel = loop_kernels_[i]) {
      RunLoopKernel(kernel, std::get<KernelThunk>(thunk), arena, *cores_[device]);
    } else if (const auto* k = std::get_if<KernelThunk>(&thunk)) {
      const Instruction& instr = *kernels_[i];
      std::vector<Literal> operands;
      size_t next = 0;
      for (const Instruction* o : instr.operands) {
        operands.emplace_back(o->shape);
        LoadLeaves(operands.back(), arena, k->arguments, next);
      }
      std::vector<const Literal*> pointers;
      for (const Literal& o : operands) pointers.push_back(&o);
      PJIT_ASSIGN_OR_RETURN(Literal result, EvaluateInstruction(instr, pointers, options));
      StoreLeaves(result, arena, k->arguments, next);
    } else if (const auto* g = std::get_if<GemmThunk>(&thunk)) {
      RunGemm(*g, arena, *cores_[device]);
    } else if (const auto* c = std::get_if<CollectiveThunk>(&thunk)) {
      PJIT_RETURN_IF_ERROR(RunCollective(i, *c, device));
    } else {
      const auto& copy = std::get<CopyThunk>(thunk);
      if (copy.source.size) std::memmove(arena + copy.destination.offset, arena + copy.source.offset, copy.source.size);
    }
  }
  for (size_t o = 0; o < signature_.outputs.size(); ++o) {
    const ArrayInfo& info = signature_.outputs[o];
    Literal out(Shape::Array(info.shape.dtype, info.shard_shape.dims));
    if (sequence_.results[o].size) std::memcpy(out.bytes().data(), arena + sequence_.results[o].offset, sequence_.results[o].size);
    results.push_back(std::move(out));
  }
  return OkStatus();
}

StatusOr<std::vector<std::vector<Literal>>> CpuExecutable::Execute(const std::vector<std::vector<const Literal*>>& arguments) {
  size_t n = arenas_.size();
  aborted_ = false;
  Collectives interpreter_collectives(static_cast<int64_t>(n), std::chrono::milliseconds(timeout_ms_));
  std::vector<std::vector<Literal>> results(n);
  std::vector<Status> status(n);
  std::vector<std::thread> threads;
  for (size_t d = 0; d < n; ++d)
    threads.emplace_back([&, d] {
      try {
        status[d] = RunDevice(d, arguments[d], results[d], interpreter_collectives);
      } catch (const std::bad_alloc&) {
        status[d] = Internal("out of memory");
      }
      if (!status[d].ok()) Abort();
    });
  for (std::thread& t : threads) t.join();
  // The first failure is the cause; devices that stopped because of it only say "aborted".
  std::optional<size_t> failed;
  for (size_t d = 0; d < n; ++d)
    if (!status[d].ok() && (!failed || (status[*failed].message() == "aborted" && status[d].message() != "aborted"))) failed = d;
  if (failed) {
    for (const auto& site : collectives_)
      if (site)
        for (const auto& g : site->groups) g->Reset();
    return Status(status[*failed].code(), StrCat("device ", *failed, ": ", status[*failed].message()));
  }
  return results;
}

}  // namespace pjit
