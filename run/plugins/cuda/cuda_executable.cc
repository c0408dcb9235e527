#include "run/plugins/cuda/cuda_executable.h"

#include <climits>
#include <cstring>
#include <functional>
#include <unordered_map>

#include "format/artifact_reader.h"
#include "run/interpreter/evaluator.h"
#include "run/plugins/cuda/cuda_memory.h"
#include "run/plugins/device_threads.h"

namespace pjit {
namespace {

constexpr unsigned kThreadsPerBlock = 256;

Status Blas(cublasStatus_t s, const char* call) {
  if (s == CUBLAS_STATUS_SUCCESS) return OkStatus();
  return Internal(call, ": ", cublasGetStatusString(s));
}

void ForEachLeaf(Literal& value, const std::function<void(Literal&)>& f) {
  if (!value.shape().IsTuple()) return f(value);
  for (Literal& e : value.elements()) ForEachLeaf(e, f);
}

void ForEachLeaf(const Literal& value, const std::function<void(const Literal&)>& f) {
  if (!value.shape().IsTuple()) return f(value);
  for (const Literal& e : value.elements()) ForEachLeaf(e, f);
}

// The loop kernels' code for a GPU of compute capability major.minor: its cubin, else the PTX.
const ExecutableInfo* CodeFor(const std::vector<ExecutableInfo>& executables, int major, int minor) {
  if (const ExecutableInfo* cubin = FindExecutable(executables, "sm_" + std::to_string(major * 10 + minor), "cubin")) return cubin;
  return FindExecutable(executables, "nvptx", "ptx");
}

}  // namespace

Status CudaExecutable::CheckDevices(int64_t n) {
  PJIT_ASSIGN_OR_RETURN(const CudaDriver* cu, CudaDriver::Get());
  if (n > cu->device_count) return Unavailable("cuda: ", n, " devices asked for, the NVIDIA driver sees ", cu->device_count, " GPUs");
  return OkStatus();
}

StatusOr<std::unique_ptr<HostExecutable>> CudaExecutable::Load(std::string_view artifact, const std::string& name,
                                                               const HostClientOptions& options) {
  PJIT_ASSIGN_OR_RETURN(const CudaDriver* cu, CudaDriver::Get());
  PJIT_ASSIGN_OR_RETURN(std::unique_ptr<ArtifactReader> reader, ArtifactReader::FromBytes(std::string(artifact), name));
  PJIT_ASSIGN_OR_RETURN(ThunkPlan plan, reader->LoadThunks());
  if (plan.sequences.empty())
    return InvalidArgument(name, ": section 'thunks': absent (the cuda platform runs the thunk sequence; recompile with this pjit-compile)");
  if (plan.sequences.size() != 1 || plan.sequences[0].device != -1)
    return Unimplemented(name, ": section 'thunks': per-device thunk sequences are not supported by the cuda platform");
  std::unique_ptr<CudaExecutable> e(new CudaExecutable(*cu));
  e->signature_ = reader->signature();
  e->sequence_ = std::move(plan.sequences[0]);
  e->timeout_ms_ = options.timeout_ms;
  PJIT_ASSIGN_OR_RETURN(std::vector<LoadedDeviceProgram> programs, reader->LoadDevicePrograms());
  if (programs.size() == 1) e->program_ = std::move(programs[0].module);
  Status prepared = e->Prepare(plan, reader->mesh().device_count());
  if (!prepared.ok()) return Status(prepared.code(), StrCat(name, ": ", prepared.message()));
  return std::unique_ptr<HostExecutable>(std::move(e));
}

Status CudaExecutable::Prepare(const ThunkPlan& plan, int64_t n) {
  PJIT_RETURN_IF_ERROR(CheckDevices(n));
  PJIT_RETURN_IF_ERROR(CheckArraySlices(signature_.inputs, sequence_.parameters, "input"));
  PJIT_RETURN_IF_ERROR(CheckArraySlices(signature_.outputs, sequence_.results, "output"));
  in_place_ = PinsParametersAndResults(sequence_);
  if (in_place_) regions_ = PinnedRegions(sequence_);
  const ExecutableInfo* cuda = FindExecutable(plan.executables, "nvptx", "ptx");
  const KernelInstructions instructions(program_.get());
  lists_ = ListThunks(sequence_);
  const size_t count = lists_.count;
  host_kernels_.assign(count, nullptr);
  symbols_.assign(count, "");
  threads_.assign(count, 0);
  groups_.resize(count);
  uint64_t staging = 0;
  bool gemms = false;
  std::vector<const CollectiveGroups*> layouts(count, nullptr);
  std::vector<const CollectiveThunk*> collectives(count, nullptr);
  PJIT_RETURN_IF_ERROR(ForEachThunk(lists_, [&](size_t i, const Thunk& thunk) -> Status {
    std::string where = StrCat("section 'thunks': thunk ", i, ": ");
    if (const auto* k = std::get_if<KernelThunk>(&thunk)) {
      if (k->executable < plan.executables.size() && plan.executables[k->executable].format != "hlo") {
        if (!cuda)
          return Unimplemented("section 'executables': kernel ", k->kernel, " has no CUDA code, only ", plan.executables[k->executable].target,
                               " (compile with --target cuda to run it on the cuda platform)");
        size_t index = 0;
        while (index < cuda->kernels.size() && cuda->kernels[index] != k->kernel) ++index;
        if (index == cuda->kernels.size() || index >= cuda->launches.size() || cuda->launches[index].size() != 1)
          return InvalidArgument("section 'executables': the nvptx code has no kernel ", k->kernel, " with a launch of {threads}");
        symbols_[i] = CudaKernelSymbol(k->kernel);
        threads_[i] = cuda->launches[index][0];
        return OkStatus();
      }
      const Instruction* found = instructions.Find(k->kernel);
      if (!found || found->opcode == Opcode::kParameter)
        return InvalidArgument(where, "the device program has no instruction '", k->kernel, "' to run");
      host_kernels_[i] = found;
      PJIT_RETURN_IF_ERROR(CheckKernelSlices(*found, *k));
    } else if (const auto* g = std::get_if<GemmThunk>(&thunk)) {
      if (g->dtype != DType::kF32 && g->dtype != DType::kF64 && g->dtype != DType::kBF16)
        return Unimplemented(where, "a ", DTypeName(g->dtype), " gemm (the cuda platform multiplies f32, f64 and bf16)");
      if (g->m > INT_MAX || g->n > INT_MAX || g->k > INT_MAX || g->batch > INT_MAX)
        return Unimplemented(where, "a gemm of ", g->m, "x", g->n, "x", g->k, " is past cuBLAS's 32-bit sizes");
      gemms = true;
    } else if (const auto* c = std::get_if<CollectiveThunk>(&thunk)) {
      PJIT_ASSIGN_OR_RETURN(CollectiveGroups layout, LayOutCollective(*c, n));
      groups_[i] = std::make_unique<CollectiveGroups>(std::move(layout));
      layouts[i] = groups_[i].get();
      staging = std::max(staging, NcclStagingBytes(*c, groups_[i]->groups[0].size()));
      collectives[i] = c;
    }
    return OkStatus();
  }));
  preloaded_ = PreloadableConstants(lists_, host_kernels_, sequence_);
  devices_.resize(static_cast<size_t>(n));
  for (size_t d = 0; d < devices_.size(); ++d) {
    Status s = PrepareDevice(d, plan, staging, gemms);
    if (!s.ok()) return Status(s.code(), StrCat("device ", d, ": ", s.message()));
  }
  if (std::any_of(collectives.begin(), collectives.end(), [](const CollectiveThunk* c) { return c != nullptr; })) {
    PJIT_ASSIGN_OR_RETURN(nccl_, NcclCommunicators::Create(collectives, layouts, n));
  }
  return OkStatus();
}

Status CudaExecutable::PrepareDevice(size_t index, const ThunkPlan& plan, uint64_t staging_bytes, bool gemms) {
  Device& d = devices_[index];
  PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuDeviceGet(&d.gpu, static_cast<int>(index)), "cuDeviceGet"));
  PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuDevicePrimaryCtxRetain(&d.context, d.gpu), "cuDevicePrimaryCtxRetain"));
  PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuCtxSetCurrent(d.context), "cuCtxSetCurrent"));
  PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuStreamCreate(&d.stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate"));
  // Buffers freed between executions stay in the pool for the next one's outputs.
  CUmemoryPool pool = nullptr;
  cuuint64_t keep = ~cuuint64_t{0};
  PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuDeviceGetDefaultMemPool(&pool, d.gpu), "cuDeviceGetDefaultMemPool"));
  PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuMemPoolSetAttribute(pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &keep), "cuMemPoolSetAttribute"));
  PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuMemAlloc(&d.arena, std::max<uint64_t>(sequence_.arena_bytes, 1)),
                                 StrCat("allocating the arena of ", sequence_.arena_bytes, " bytes")));
  if (staging_bytes)
    PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuMemAlloc(&d.staging, staging_bytes), "allocating the collectives' staging memory"));
  // Constants whose bytes the plan pins: uploaded once, skipped by every execution.
  PJIT_RETURN_IF_ERROR(ForEachThunk(lists_, [&](size_t i, const Thunk& thunk) -> Status {
    if (!preloaded_[i]) return OkStatus();
    const std::vector<BufferSlice>& slices = std::get<KernelThunk>(thunk).arguments;
    size_t next = 0;
    Status uploaded;
    ForEachLeaf(host_kernels_[i]->literal, [&](const Literal& leaf) {
      const BufferSlice& s = slices[next++];
      if (uploaded.ok() && s.size) uploaded = cu_.Check(cu_.cuMemcpyHtoD(d.arena + s.offset, leaf.bytes().data(), s.size), "uploading a constant");
    });
    return uploaded;
  }));
  d.functions.assign(lists_.count, nullptr);
  d.tables_of_thunk.assign(lists_.count, 0);
  d.table_values = TableValues([&d](const BufferSlice& s) { return d.arena + s.offset; });
  const std::vector<CUdeviceptr>& tables = d.table_values;
  if (gemms) {
    PJIT_RETURN_IF_ERROR(Blas(cublasCreate(&d.blas), "cublasCreate"));
    PJIT_RETURN_IF_ERROR(Blas(cublasSetStream(d.blas, d.stream), "cublasSetStream"));
  }
  if (tables.empty()) return OkStatus();
  int major = 0, minor = 0;
  PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d.gpu), "cuDeviceGetAttribute"));
  PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d.gpu), "cuDeviceGetAttribute"));
  const ExecutableInfo* code = CodeFor(plan.executables, major, minor);
  PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuModuleLoadDataEx(&d.module, code->binary.c_str(), 0, nullptr, nullptr),
                                 StrCat("loading the ", code->target, " ", code->format, " for an sm_", major, minor, " GPU")));
  PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuMemAlloc(&d.tables, tables.size() * sizeof(CUdeviceptr)), "allocating kernel argument tables"));
  PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuMemcpyHtoDAsync(d.tables, tables.data(), tables.size() * sizeof(CUdeviceptr), d.stream),
                                 "uploading kernel argument tables"));
  size_t next = 0;
  PJIT_RETURN_IF_ERROR(ForEachThunk(lists_, [&](size_t i, const Thunk& thunk) -> Status {
    if (symbols_[i].empty()) return OkStatus();
    d.tables_of_thunk[i] = d.tables + next * sizeof(CUdeviceptr);
    next += std::get<KernelThunk>(thunk).arguments.size();
    return cu_.Check(cu_.cuModuleGetFunction(&d.functions[i], d.module, symbols_[i].c_str()), "kernel " + symbols_[i]);
  }));
  return cu_.Check(cu_.cuStreamSynchronize(d.stream), "cuStreamSynchronize");
}

std::vector<CUdeviceptr> CudaExecutable::TableValues(const GpuSliceAddress& address) const {
  std::vector<CUdeviceptr> values;
  (void)ForEachThunk(lists_, [&](size_t i, const Thunk& thunk) {
    if (!symbols_[i].empty())
      for (const BufferSlice& s : std::get<KernelThunk>(thunk).arguments) values.push_back(address(s));
    return OkStatus();
  });
  return values;
}

CudaExecutable::~CudaExecutable() {
  nccl_.reset();
  for (Device& d : devices_) {
    if (!d.context) continue;
    cu_.cuCtxSetCurrent(d.context);
    if (d.stream) cu_.cuStreamSynchronize(d.stream);
    if (d.blas) cublasDestroy(d.blas);
    if (d.module) cu_.cuModuleUnload(d.module);
    for (CUdeviceptr p : {d.arena, d.staging, d.tables})
      if (p) cu_.cuMemFree(p);
    if (d.stream) cu_.cuStreamDestroy(d.stream);
    cu_.cuDevicePrimaryCtxRelease(d.gpu);
  }
}

// out = op(lhs) · op(rhs) row-major is outᵀ = op(rhs)ᵀ · op(lhs)ᵀ column-major: cuBLAS
// multiplies the operands swapped, each read as the transpose it stores.
Status CudaExecutable::RunGemm(Device& d, const GemmThunk& g, const GpuSliceAddress& address) {
  const int m = static_cast<int>(g.m), n = static_cast<int>(g.n), k = static_cast<int>(g.k), batch = static_cast<int>(g.batch);
  cublasOperation_t op_rhs = g.transpose_rhs ? CUBLAS_OP_T : CUBLAS_OP_N, op_lhs = g.transpose_lhs ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int ld_rhs = g.transpose_rhs ? k : n, ld_lhs = g.transpose_lhs ? m : k;
  const long long stride_rhs = static_cast<long long>(k) * n, stride_lhs = static_cast<long long>(m) * k,
                  stride_out = static_cast<long long>(m) * n;
  CUdeviceptr lhs = address(g.lhs), rhs = address(g.rhs), out = address(g.out);
  if (g.dtype == DType::kF32) {
    const float one = 1, zero = 0;
    return Blas(cublasSgemmStridedBatched(d.blas, op_rhs, op_lhs, n, m, k, &one, reinterpret_cast<const float*>(rhs), ld_rhs, stride_rhs,
                                          reinterpret_cast<const float*>(lhs), ld_lhs, stride_lhs, &zero, reinterpret_cast<float*>(out), n,
                                          stride_out, batch),
                "cublasSgemmStridedBatched");
  }
  if (g.dtype == DType::kBF16) {  // f32 accumulation, each result rounded to bfloat16 once
    const float one = 1, zero = 0;
    return Blas(cublasGemmStridedBatchedEx(d.blas, op_rhs, op_lhs, n, m, k, &one, reinterpret_cast<const void*>(rhs), CUDA_R_16BF, ld_rhs,
                                           stride_rhs, reinterpret_cast<const void*>(lhs), CUDA_R_16BF, ld_lhs, stride_lhs, &zero,
                                           reinterpret_cast<void*>(out), CUDA_R_16BF, n, stride_out, batch, CUBLAS_COMPUTE_32F,
                                           CUBLAS_GEMM_DEFAULT),
                "cublasGemmStridedBatchedEx");
  }
  const double one = 1, zero = 0;
  return Blas(cublasDgemmStridedBatched(d.blas, op_rhs, op_lhs, n, m, k, &one, reinterpret_cast<const double*>(rhs), ld_rhs, stride_rhs,
                                        reinterpret_cast<const double*>(lhs), ld_lhs, stride_lhs, &zero, reinterpret_cast<double*>(out), n,
                                        stride_out, batch),
              "cublasDgemmStridedBatched");
}

Status CudaExecutable::RunHostKernel(size_t device, const KernelThunk& k, const Instruction& instr, const GpuSliceAddress& address,
                                     Collectives& interpreter_collectives) {
  Device& d = devices_[device];
  std::vector<Literal> operands;
  for (const Instruction* o : instr.operands) operands.push_back(Literal::ForOverwrite(o->shape));
  size_t next = 0;
  Status copied;
  for (Literal& o : operands)
    ForEachLeaf(o, [&](Literal& leaf) {
      const BufferSlice& s = k.arguments[next++];
      if (copied.ok() && s.size)
        copied = cu_.Check(cu_.cuMemcpyDtoHAsync(leaf.bytes().data(), address(s), s.size, d.stream), "copying an operand to the host");
    });
  PJIT_RETURN_IF_ERROR(copied);
  PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuStreamSynchronize(d.stream), "cuStreamSynchronize"));
  std::vector<const Literal*> pointers;
  for (const Literal& o : operands) pointers.push_back(&o);
  EvaluationOptions options;
  options.partition_id = static_cast<int64_t>(device);
  options.collectives = &interpreter_collectives;
  PJIT_ASSIGN_OR_RETURN(Literal result, EvaluateInstruction(instr, pointers, options));
  ForEachLeaf(result, [&](Literal& leaf) {
    const BufferSlice& s = k.arguments[next++];
    if (copied.ok() && s.size)
      copied = cu_.Check(cu_.cuMemcpyHtoDAsync(address(s), leaf.bytes().data(), s.size, d.stream), "copying a result to the device");
  });
  PJIT_RETURN_IF_ERROR(copied);
  return cu_.Check(cu_.cuStreamSynchronize(d.stream), "cuStreamSynchronize");  // before `result` goes
}

Status CudaExecutable::RunDevice(size_t device, const std::vector<const DeviceMemory*>& arguments, std::vector<DeviceResult>& results,
                                 Collectives& interpreter_collectives) {
  Device& d = devices_[device];
  // The caller's buffers: the inputs, then the results, allocated first so that in place the
  // thunks write them directly.
  std::vector<CUdeviceptr> bases{d.arena};
  for (size_t i = 0; i < arguments.size(); ++i) {
    const auto& input = static_cast<const CudaMemory&>(*arguments[i]);  // this platform's buffers are all CudaMemory
    if (input.size() != sequence_.parameters[i].size)
      return InvalidArgument("input ", i, " holds ", input.size(), " bytes, the device expects ", sequence_.parameters[i].size);
    bases.push_back(input.address());
  }
  for (size_t o = 0; o < signature_.outputs.size(); ++o) {
    PJIT_ASSIGN_OR_RETURN(std::unique_ptr<CudaMemory> out, CudaMemory::Allocate(static_cast<int64_t>(device), sequence_.results[o].size, d.stream));
    bases.push_back(out->address());
    const ArrayInfo& info = signature_.outputs[o];
    results.push_back(DeviceResult{Shape::Array(info.shape.dtype, info.shard_shape.dims), std::move(out)});
  }
  const GpuSliceAddress address = [&](const BufferSlice& s) {
    if (in_place_)
      if (auto region = FindRegion(regions_, s)) return bases[region->first + 1] + region->second;
    return d.arena + s.offset;
  };
  PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuCtxSetCurrent(d.context), "cuCtxSetCurrent"));
  if (in_place_) {
    if (std::vector<CUdeviceptr> values = TableValues(address); values != d.table_values) {
      d.table_values = std::move(values);
      PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuMemcpyHtoDAsync(d.tables, d.table_values.data(), d.table_values.size() * sizeof(CUdeviceptr), d.stream),
                                     "updating kernel argument tables"));
    }
  } else {
    for (size_t i = 0; i < arguments.size(); ++i)
      if (const BufferSlice& s = sequence_.parameters[i]; s.size)
        PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuMemcpyDtoDAsync(d.arena + s.offset, bases[i + 1], s.size, d.stream),
                                       StrCat("copying input ", i, " into the arena")));
  }
  PJIT_RETURN_IF_ERROR(RunList(device, 0, address, interpreter_collectives));
  if (!in_place_)
    for (size_t o = 0; o < results.size(); ++o)
      if (const BufferSlice& s = sequence_.results[o]; s.size)
        PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuMemcpyDtoDAsync(bases[arguments.size() + 1 + o], d.arena + s.offset, s.size, d.stream),
                                       StrCat("copying output ", o, " out of the arena")));
  return cu_.Check(cu_.cuStreamSynchronize(d.stream), "running the thunks");
}

Status CudaExecutable::RunList(size_t device, size_t list, const GpuSliceAddress& address, Collectives& interpreter_collectives) {
  Device& d = devices_[device];
  const std::vector<Thunk>& thunks = *lists_.lists[list];
  for (size_t t = 0; t < thunks.size(); ++t) {
    const size_t i = lists_.first[list] + t;
    const Thunk& thunk = thunks[t];
    Status s;
    if (preloaded_[i]) continue;  // a constant, already in place
    if (d.functions[i]) {
      if (!threads_[i]) continue;
      CUdeviceptr table = d.tables_of_thunk[i];
      uint64_t threads = threads_[i];
      void* params[] = {&table, &threads};
      const uint64_t blocks = (threads + kThreadsPerBlock - 1) / kThreadsPerBlock;
      if (blocks > INT_MAX) return Unimplemented("kernel ", symbols_[i], ": ", threads, " threads are more than one launch runs");
      s = cu_.Check(cu_.cuLaunchKernel(d.functions[i], static_cast<unsigned>(blocks), 1, 1, kThreadsPerBlock, 1, 1, 0, d.stream, params, nullptr),
                    "launching " + symbols_[i]);
    } else if (const Instruction* instr = host_kernels_[i]) {
      s = RunHostKernel(device, std::get<KernelThunk>(thunk), *instr, address, interpreter_collectives);
    } else if (const auto* g = std::get_if<GemmThunk>(&thunk)) {
      s = RunGemm(d, *g, address);
    } else if (const auto* c = std::get_if<CollectiveThunk>(&thunk)) {
      s = RunNcclCollective(cu_, *c, *groups_[i], device, nccl_->For(i, device), address, d.staging, d.stream);
    } else if (const auto* w = std::get_if<WhileThunk>(&thunk)) {
      // The host decides each step: the predicate comes back once the condition's work is done.
      PJIT_RETURN_IF_ERROR(RunList(device, ListNumber(w->condition), address, interpreter_collectives));
      for (;;) {
        PJIT_ASSIGN_OR_RETURN(std::byte predicate, ReadByte(d, address(w->predicate)));
        if (predicate == std::byte{0}) break;
        PJIT_RETURN_IF_ERROR(RunList(device, ListNumber(w->body), address, interpreter_collectives));
        PJIT_RETURN_IF_ERROR(RunList(device, ListNumber(w->condition), address, interpreter_collectives));
      }
    } else if (const auto* c = std::get_if<ConditionalThunk>(&thunk)) {
      std::byte index[4] = {};
      for (uint64_t b = 0; b < c->index.size; ++b) {
        PJIT_ASSIGN_OR_RETURN(index[b], ReadByte(d, address(c->index) + b));
      }
      PJIT_RETURN_IF_ERROR(RunList(device, ListNumber(c->branches[ConditionalBranch(*c, index)]), address, interpreter_collectives));
    } else {
      const auto& copy = std::get<CopyThunk>(thunk);
      if (copy.source.size)
        s = cu_.Check(cu_.cuMemcpyDtoDAsync(address(copy.destination), address(copy.source), copy.source.size, d.stream), "cuMemcpyDtoDAsync");
    }
    if (!s.ok()) return Status(s.code(), StrCat("thunk ", i, ": ", s.message()));
  }
  return OkStatus();
}

StatusOr<std::byte> CudaExecutable::ReadByte(Device& d, CUdeviceptr address) {
  std::byte value{};
  PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuMemcpyDtoHAsync(&value, address, 1, d.stream), "reading a control-flow value back"));
  PJIT_RETURN_IF_ERROR(cu_.Check(cu_.cuStreamSynchronize(d.stream), "cuStreamSynchronize"));
  return value;
}

StatusOr<std::vector<std::vector<DeviceResult>>> CudaExecutable::ExecuteOnDevices(const std::vector<std::vector<const DeviceMemory*>>& arguments) {
  if (broken_) return Internal("an earlier execution failed and aborted the NCCL communicators: load the artifact again");
  size_t n = devices_.size();
  Collectives interpreter_collectives(static_cast<int64_t>(n), std::chrono::milliseconds(timeout_ms_));
  std::vector<std::vector<DeviceResult>> results(n);
  // A device that stops early would leave the others waiting in a collective forever.
  PJIT_RETURN_IF_ERROR(RunDevices(
      n, [&](size_t d) { return RunDevice(d, arguments[d], results[d], interpreter_collectives); },
      [this] {
        if (!nccl_) return;
        broken_ = true;
        nccl_->Abort();
      }));
  return results;
}

}  // namespace pjit
