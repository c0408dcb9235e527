#include "run/plugins/cpu/cpu_executable.h"

#include <algorithm>
#include <functional>
#include <cstring>
#include <new>
#include <thread>
#include <unordered_map>

#include "format/artifact_reader.h"
#include "format/parallel.h"
#include "run/interpreter/evaluator.h"
#include "run/plugins/cpu/collective_ops.h"
#include "run/plugins/cpu/cpu_features.h"
#include "run/plugins/cpu/gemm.h"
#include "run/plugins/device_threads.h"
#include "run/plugins/thunk_plan.h"

namespace pjit {
namespace {

constexpr std::align_val_t kArenaAlignment{64};

using SliceAddress = std::function<std::byte*(const BufferSlice&)>;

// Copies between a value's leaves and consecutive slices starting at slices[next].
void LoadLeaves(Literal& value, const SliceAddress& address, const std::vector<BufferSlice>& slices, size_t& next) {
  if (value.shape().IsTuple()) {
    for (Literal& e : value.elements()) LoadLeaves(e, address, slices, next);
    return;
  }
  const BufferSlice& s = slices[next++];
  if (s.size) std::memcpy(value.bytes().data(), address(s), s.size);
}

void StoreLeaves(const Literal& value, const SliceAddress& address, const std::vector<BufferSlice>& slices, size_t& next) {
  if (value.shape().IsTuple()) {
    for (const Literal& e : value.elements()) StoreLeaves(e, address, slices, next);
    return;
  }
  const BufferSlice& s = slices[next++];
  if (s.size) std::memcpy(address(s), value.bytes().data(), s.size);
}

// Rows split over the device's cores, each part writing at least 64 KiB.
void RunLoopKernel(LoopKernel kernel, const KernelThunk& k, const SliceAddress& address, tbb::task_arena& cores) {
  std::vector<void*> arguments;
  for (const BufferSlice& s : k.arguments) arguments.push_back(address(s));
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
  e->cores_per_device_ = options.cores_per_device;
  e->lists_ = ListThunks(e->sequence_);
  bool has_kernels = false;
  (void)ForEachThunk(e->lists_, [&](size_t, const Thunk& t) {
    has_kernels = has_kernels || std::holds_alternative<KernelThunk>(t);
    return OkStatus();
  });
  if (has_kernels) {
    if (programs.size() != 1) return InvalidArgument(name, ": section 'device_programs': the cpu platform needs exactly one program");
    e->program_ = std::move(programs[0].module);
  }
  // Loop kernels run from the x86_64 executable, whichever target's executable a thunk names
  // (every target's lists the same kernels); the others are for other platforms.
  const ExecutableInfo* x86 = FindExecutable(plan.executables, "x86_64", "elf");
  if (x86) {
    PJIT_RETURN_IF_ERROR(CheckCpuFeatures(*x86, name));
    PJIT_ASSIGN_OR_RETURN(e->native_, NativeLibrary::Load(x86->binary, name));
  }
  e->loop_kernels_.assign(e->lists_.count, nullptr);
  PJIT_RETURN_IF_ERROR(ForEachThunk(e->lists_, [&](size_t i, const Thunk& thunk) -> Status {
    const auto* k = std::get_if<KernelThunk>(&thunk);
    if (!k || k->executable >= plan.executables.size() || plan.executables[k->executable].format == "hlo") return OkStatus();
    if (!x86)
      return Unimplemented(name, ": section 'executables': kernel ", k->kernel, " has no x86_64 code, only ",
                           plan.executables[k->executable].target, " (compile with --target cpu to run it on the cpu platform)");
    if (k->launch.size() != 1) return InvalidArgument(name, ": section 'thunks': kernel ", k->kernel, " needs launch = {rows}");
    PJIT_ASSIGN_OR_RETURN(e->loop_kernels_[i], e->native_->Kernel(k->kernel));
    return OkStatus();
  }));
  Status prepared = e->Prepare(reader->mesh().device_count());
  if (!prepared.ok()) return Status(prepared.code(), StrCat(name, ": section 'thunks': ", prepared.message()));
  return std::unique_ptr<HostExecutable>(std::move(e));
}

Status CpuExecutable::Prepare(int64_t n) {
  PJIT_RETURN_IF_ERROR(CheckArraySlices(signature_.inputs, sequence_.parameters, "input"));
  PJIT_RETURN_IF_ERROR(CheckArraySlices(signature_.outputs, sequence_.results, "output"));
  in_place_ = PinsParametersAndResults(sequence_);
  if (in_place_) regions_ = PinnedRegions(sequence_);
  const size_t count = lists_.count;
  kernels_.assign(count, nullptr);
  const KernelInstructions instructions(program_.get());
  collectives_.resize(count);
  PJIT_RETURN_IF_ERROR(ForEachThunk(lists_, [&](size_t i, const Thunk& thunk) -> Status {
    if (loop_kernels_[i]) return OkStatus();
    if (const auto* k = std::get_if<KernelThunk>(&thunk)) {
      kernels_[i] = instructions.Find(k->kernel);
      if (!kernels_[i] || kernels_[i]->opcode == Opcode::kParameter)
        return InvalidArgument("thunk ", i, ": the device program has no instruction '", k->kernel, "' to run");
      PJIT_RETURN_IF_ERROR(CheckKernelSlices(*kernels_[i], *k));
    } else if (const auto* c = std::get_if<CollectiveThunk>(&thunk)) {
      PJIT_ASSIGN_OR_RETURN(CollectiveGroups layout, LayOutCollective(*c, n));
      auto site = std::make_unique<CollectiveSite>();
      site->group_of_device = std::move(layout.group_of_device);
      site->rank_of_device = std::move(layout.rank_of_device);
      site->source_of_device = std::move(layout.source_of_device);
      for (std::vector<int64_t>& g : layout.groups) site->groups.push_back(std::make_unique<Rendezvous>(std::move(g)));
      collectives_[i] = std::move(site);
    }
    return OkStatus();
  }));
  // Each device's share of the cores for the parallel work inside it.
  int cores = cores_per_device_ ? static_cast<int>(cores_per_device_)
                                : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / static_cast<int>(n));
  for (int64_t d = 0; d < n; ++d) {
    arenas_.emplace_back(static_cast<std::byte*>(::operator new[](std::max<uint64_t>(sequence_.arena_bytes, 1), kArenaAlignment)));
    cores_.push_back(std::make_unique<tbb::task_arena>(cores));
  }
  PreloadConstants();
  InitGemm();
  return OkStatus();
}

void CpuExecutable::PreloadConstants() {
  preloaded_ = PreloadableConstants(lists_, kernels_, sequence_);
  (void)ForEachThunk(lists_, [&](size_t i, const Thunk& thunk) {
    if (!preloaded_[i]) return OkStatus();
    for (const auto& arena : arenas_) {
      size_t next = 0;
      StoreLeaves(kernels_[i]->literal, [&](const BufferSlice& s) { return arena.get() + s.offset; }, std::get<KernelThunk>(thunk).arguments, next);
    }
    return OkStatus();
  });
}

std::byte* CpuExecutable::Address(size_t device, const BufferSlice& s) const {
  const std::vector<std::byte*>& bases = bases_[device];
  if (auto region = FindRegion(regions_, s)) return bases[region->first + 1] + region->second;
  return bases[0] + s.offset;
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
  const std::vector<int64_t>& members = group.devices();
  auto address = [&](size_t member, const BufferSlice& s) { return Address(static_cast<size_t>(members[member]), s); };
  pjit::RunCollective(t, address, members.size(), rank, site.source_of_device[device]);
  return group.Wait(rank, deadline(), aborted_, what);
}

Status CpuExecutable::RunDevice(size_t device, const std::vector<const Literal*>& arguments, std::vector<Literal>& results,
                                Collectives& interpreter_collectives) {
  const SliceAddress address = [this, device](const BufferSlice& s) { return Address(device, s); };
  for (size_t i = 0; i < arguments.size(); ++i) {
    const BufferSlice& s = sequence_.parameters[i];
    if (arguments[i]->bytes().size() != s.size)
      return InvalidArgument("input ", i, " is ", arguments[i]->shape().ToString(false), " (", arguments[i]->bytes().size(),
                             " bytes), the device expects ", s.size, " bytes");
    if (!in_place_ && s.size) std::memcpy(address(s), arguments[i]->bytes().data(), s.size);
  }
  EvaluationOptions options;
  options.partition_id = static_cast<int64_t>(device);
  options.collectives = &interpreter_collectives;
  PJIT_RETURN_IF_ERROR(RunList(device, 0, options));
  if (in_place_) return OkStatus();  // the kernels wrote the results where the caller has them
  for (size_t o = 0; o < signature_.outputs.size(); ++o)
    if (sequence_.results[o].size) std::memcpy(results[o].bytes().data(), address(sequence_.results[o]), sequence_.results[o].size);
  return OkStatus();
}

Status CpuExecutable::RunList(size_t device, size_t list, const EvaluationOptions& options) {
  const SliceAddress address = [this, device](const BufferSlice& s) { return Address(device, s); };
  const std::vector<Thunk>& thunks = *lists_.lists[list];
  for (size_t t = 0; t < thunks.size(); ++t) {
    if (aborted_) return Status(StatusCode::kInternal, "aborted");
    const size_t i = lists_.first[list] + t;
    const Thunk& thunk = thunks[t];
    if (preloaded_[i]) continue;  // a constant, already in place
    if (LoopKernel kernel = loop_kernels_[i]) {
      RunLoopKernel(kernel, std::get<KernelThunk>(thunk), address, *cores_[device]);
    } else if (const auto* k = std::get_if<KernelThunk>(&thunk)) {
      const Instruction& instr = *kernels_[i];
      std::vector<Literal> operands;
      size_t next = 0;
      for (const Instruction* o : instr.operands) {
        operands.emplace_back(o->shape);
        LoadLeaves(operands.back(), address, k->arguments, next);
      }
      std::vector<const Literal*> pointers;
      for (const Literal& o : operands) pointers.push_back(&o);
      PJIT_ASSIGN_OR_RETURN(Literal result, EvaluateInstruction(instr, pointers, options));
      StoreLeaves(result, address, k->arguments, next);
    } else if (const auto* g = std::get_if<GemmThunk>(&thunk)) {
      RunGemm(*g, address(g->lhs), address(g->rhs), address(g->out), *cores_[device]);
    } else if (const auto* c = std::get_if<CollectiveThunk>(&thunk)) {
      PJIT_RETURN_IF_ERROR(RunCollective(i, *c, device));
    } else if (const auto* w = std::get_if<WhileThunk>(&thunk)) {
      PJIT_RETURN_IF_ERROR(RunList(device, ListNumber(w->condition), options));
      while (*address(w->predicate) != std::byte{0}) {
        if (aborted_) return Status(StatusCode::kInternal, "aborted");
        PJIT_RETURN_IF_ERROR(RunList(device, ListNumber(w->body), options));
        PJIT_RETURN_IF_ERROR(RunList(device, ListNumber(w->condition), options));
      }
    } else if (const auto* c = std::get_if<ConditionalThunk>(&thunk)) {
      PJIT_RETURN_IF_ERROR(RunList(device, ListNumber(c->branches[ConditionalBranch(*c, address(c->index))]), options));
    } else {
      const auto& copy = std::get<CopyThunk>(thunk);
      if (copy.source.size) std::memmove(address(copy.destination), address(copy.source), copy.source.size);
    }
  }
  return OkStatus();
}

StatusOr<std::vector<std::vector<Literal>>> CpuExecutable::Execute(const std::vector<std::vector<const Literal*>>& arguments) {
  size_t n = arenas_.size();
  aborted_ = false;
  Collectives interpreter_collectives(static_cast<int64_t>(n), std::chrono::milliseconds(timeout_ms_));
  // Results are allocated up front; in place, inputs and results are the devices' regions.
  std::vector<std::vector<Literal>> results(n);
  bases_.assign(n, {});
  for (size_t d = 0; d < n; ++d) {
    for (const ArrayInfo& info : signature_.outputs) results[d].push_back(Literal::ForOverwrite(Shape::Array(info.shape.dtype, info.shard_shape.dims)));
    bases_[d].push_back(arenas_[d].get());
    if (!in_place_) continue;
    for (const Literal* in : arguments[d]) bases_[d].push_back(const_cast<std::byte*>(in->bytes().data()));  // only read
    for (Literal& out : results[d]) bases_[d].push_back(out.bytes().data());
  }
  Status run = RunDevices(
      n, [&](size_t d) { return RunDevice(d, arguments[d], results[d], interpreter_collectives); }, [this] { Abort(); });
  if (!run.ok()) {
    for (const auto& site : collectives_)
      if (site)
        for (const auto& g : site->groups) g->Reset();
    return run;
  }
  return results;
}

}  // namespace pjit
