#include "run/plugins/cuda/nccl_collectives.h"

#include <map>

namespace pjit {
namespace {

// OkStatus, or an error naming what failed (`what`: the collective, or "communicators").
Status Nccl(ncclResult_t r, const std::string& what, const char* call) {
  if (r == ncclSuccess) return OkStatus();
  return Internal(what, ": ", call, ": ", ncclGetErrorString(r));
}

Status Nccl(ncclResult_t r, const CollectiveThunk& t, const char* call) { return Nccl(r, t.kind + " " + t.name, call); }

StatusOr<ncclDataType_t> ReduceType(const CollectiveThunk& t) {
  switch (t.dtype) {
    case DType::kPred: case DType::kU8: return ncclUint8;
    case DType::kS8: return ncclInt8;
    case DType::kS32: return ncclInt32;
    case DType::kU32: return ncclUint32;
    case DType::kS64: return ncclInt64;
    case DType::kU64: return ncclUint64;
    case DType::kF16: return ncclFloat16;
    case DType::kBF16: return ncclBfloat16;
    case DType::kF32: return ncclFloat32;
    case DType::kF64: return ncclFloat64;
    default: return Unimplemented(t.kind, " ", t.name, ": NCCL does not reduce ", DTypeName(t.dtype));
  }
}

// and/or only on pred (0 or 1), where they are min/max.
StatusOr<ncclRedOp_t> ReduceOp(const CollectiveThunk& t) {
  if (t.reduction == "add") return ncclSum;
  if (t.reduction == "multiply") return ncclProd;
  if (t.reduction == "maximum" || (t.reduction == "or" && t.dtype == DType::kPred)) return ncclMax;
  if (t.reduction == "minimum" || (t.reduction == "and" && t.dtype == DType::kPred)) return ncclMin;
  return Unimplemented(t.kind, " ", t.name, ": NCCL has no '", t.reduction, "' reduction for ", DTypeName(t.dtype));
}

// Copies `height` rows of `width` bytes between pitched device regions.
Status Copy2D(const CudaDriver& cu, CUdeviceptr dst, uint64_t dst_pitch, CUdeviceptr src, uint64_t src_pitch, uint64_t width,
              uint64_t height, CUstream stream) {
  CUDA_MEMCPY2D c{};
  c.srcMemoryType = CU_MEMORYTYPE_DEVICE;
  c.srcDevice = src;
  c.srcPitch = src_pitch;
  c.dstMemoryType = CU_MEMORYTYPE_DEVICE;
  c.dstDevice = dst;
  c.dstPitch = dst_pitch;
  c.WidthInBytes = width;
  c.Height = height;
  return cu.Check(cu.cuMemcpy2DAsync(&c, stream), "cuMemcpy2DAsync");
}

void* Ptr(CUdeviceptr p) { return reinterpret_cast<void*>(static_cast<uintptr_t>(p)); }

}  // namespace

StatusOr<std::unique_ptr<NcclCommunicators>> NcclCommunicators::Create(const std::vector<const CollectiveThunk*>& collectives,
                                                                       const std::vector<const CollectiveGroups*>& layouts, int64_t n) {
  std::unique_ptr<NcclCommunicators> c(new NcclCommunicators());
  c->set_of_thunk_.assign(collectives.size(), 0);
  std::vector<int> gpus;
  for (int d = 0; d < n; ++d) gpus.push_back(d);
  c->sets_.emplace_back(static_cast<size_t>(n));
  PJIT_RETURN_IF_ERROR(Nccl(ncclCommInitAll(c->sets_[0].data(), static_cast<int>(n), gpus.data()), "communicators", "ncclCommInitAll"));
  std::map<std::vector<std::vector<int64_t>>, size_t> set_of_groups;
  for (size_t i = 0; i < collectives.size(); ++i) {
    const CollectiveThunk* t = collectives[i];
    if (!t || t->replica_groups.empty() || t->kind == "collective-permute") continue;
    auto [it, fresh] = set_of_groups.emplace(t->replica_groups, c->sets_.size());
    c->set_of_thunk_[i] = it->second;
    if (!fresh) continue;
    const CollectiveGroups& layout = *layouts[i];
    std::vector<ncclComm_t> split(static_cast<size_t>(n));
    PJIT_RETURN_IF_ERROR(Nccl(ncclGroupStart(), *t, "ncclGroupStart"));
    for (size_t d = 0; d < static_cast<size_t>(n); ++d)
      PJIT_RETURN_IF_ERROR(Nccl(ncclCommSplit(c->sets_[0][d], static_cast<int>(layout.group_of_device[d]),
                                              static_cast<int>(layout.rank_of_device[d]), &split[d], nullptr),
                                *t, "ncclCommSplit"));
    PJIT_RETURN_IF_ERROR(Nccl(ncclGroupEnd(), *t, "ncclGroupEnd"));
    c->sets_.push_back(std::move(split));
  }
  return c;
}

NcclCommunicators::~NcclCommunicators() {
  if (aborted_) return;
  for (auto& set : sets_)
    for (ncclComm_t comm : set)
      if (comm) ncclCommDestroy(comm);
}

void NcclCommunicators::Abort() {
  if (aborted_) return;
  aborted_ = true;
  for (auto& set : sets_)
    for (ncclComm_t comm : set)
      if (comm) ncclCommAbort(comm);
}

uint64_t NcclStagingBytes(const CollectiveThunk& t, size_t g) {
  CollectiveSplit s = SplitAtDimension(t);
  if (s.outer == 1 || t.inputs.empty()) return 0;
  uint64_t in = t.inputs[0].size;
  if (t.kind == "all-gather") return in * g;
  if (t.kind == "reduce-scatter") return in;
  if (t.kind == "all-to-all") return 2 * in;
  return 0;
}

Status RunNcclCollective(const CudaDriver& cu, const CollectiveThunk& t, const CollectiveGroups& layout, size_t device,
                         ncclComm_t comm, const GpuSliceAddress& address, CUdeviceptr staging, CUstream stream) {
  const uint64_t g = layout.groups[layout.group_of_device[device]].size();
  const CollectiveSplit sp = SplitAtDimension(t);
  const uint64_t w = static_cast<uint64_t>(DTypeByteSize(t.dtype));
  cudaStream_t s = stream;  // the runtime's and the driver's streams are one type
  for (size_t k = 0; k < t.inputs.size(); ++k) {
    CUdeviceptr in = address(t.inputs[k]), out = address(t.outputs[k]);
    const uint64_t bytes = t.inputs[k].size;
    if (t.kind == "all-reduce") {
      PJIT_ASSIGN_OR_RETURN(ncclDataType_t type, ReduceType(t));
      PJIT_ASSIGN_OR_RETURN(ncclRedOp_t op, ReduceOp(t));
      PJIT_RETURN_IF_ERROR(Nccl(ncclAllReduce(Ptr(in), Ptr(out), bytes / w, type, op, comm, s), t, "ncclAllReduce"));
    } else if (t.kind == "collective-permute") {
      const int64_t source = layout.source_of_device[device];
      if (source < 0) PJIT_RETURN_IF_ERROR(cu.Check(cu.cuMemsetD8Async(out, 0, bytes, stream), "cuMemsetD8Async"));
      PJIT_RETURN_IF_ERROR(Nccl(ncclGroupStart(), t, "ncclGroupStart"));
      for (const auto& [from, to] : t.source_target_pairs)
        if (from == static_cast<int64_t>(device))
          PJIT_RETURN_IF_ERROR(Nccl(ncclSend(Ptr(in), bytes, ncclUint8, static_cast<int>(to), comm, s), t, "ncclSend"));
      if (source >= 0) PJIT_RETURN_IF_ERROR(Nccl(ncclRecv(Ptr(out), bytes, ncclUint8, static_cast<int>(source), comm, s), t, "ncclRecv"));
      PJIT_RETURN_IF_ERROR(Nccl(ncclGroupEnd(), t, "ncclGroupEnd"));
    } else if (t.kind == "all-gather") {
      const uint64_t row = sp.extent * sp.inner;
      CUdeviceptr gathered = sp.outer == 1 ? out : staging;
      PJIT_RETURN_IF_ERROR(Nccl(ncclAllGather(Ptr(in), Ptr(gathered), bytes, ncclUint8, comm, s), t, "ncclAllGather"));
      if (sp.outer > 1)  // [member][outer][row] -> [outer][member][row]
        for (uint64_t j = 0; j < g; ++j)
          PJIT_RETURN_IF_ERROR(Copy2D(cu, out + j * row, g * row, staging + j * bytes, row, row, sp.outer, stream));
    } else if (t.kind == "reduce-scatter" || t.kind == "all-to-all") {
      const uint64_t chunk = sp.extent / g * sp.inner, row = sp.extent * sp.inner, block = sp.outer * chunk;
      CUdeviceptr packed = in;
      if (sp.outer > 1) {  // [outer][member][chunk] -> [member][outer][chunk]
        packed = staging;
        for (uint64_t j = 0; j < g; ++j) PJIT_RETURN_IF_ERROR(Copy2D(cu, staging + j * block, chunk, in + j * chunk, row, chunk, sp.outer, stream));
      }
      if (t.kind == "reduce-scatter") {
        PJIT_ASSIGN_OR_RETURN(ncclDataType_t type, ReduceType(t));
        PJIT_ASSIGN_OR_RETURN(ncclRedOp_t op, ReduceOp(t));
        PJIT_RETURN_IF_ERROR(Nccl(ncclReduceScatter(Ptr(packed), Ptr(out), block / w, type, op, comm, s), t, "ncclReduceScatter"));
        continue;
      }
      CUdeviceptr received = sp.outer == 1 ? out : staging + bytes;
      PJIT_RETURN_IF_ERROR(Nccl(ncclGroupStart(), t, "ncclGroupStart"));
      for (uint64_t j = 0; j < g; ++j) {
        PJIT_RETURN_IF_ERROR(Nccl(ncclSend(Ptr(packed + j * block), block, ncclUint8, static_cast<int>(j), comm, s), t, "ncclSend"));
        PJIT_RETURN_IF_ERROR(Nccl(ncclRecv(Ptr(received + j * block), block, ncclUint8, static_cast<int>(j), comm, s), t, "ncclRecv"));
      }
      PJIT_RETURN_IF_ERROR(Nccl(ncclGroupEnd(), t, "ncclGroupEnd"));
      if (sp.outer > 1)  // [member][outer][chunk] -> [outer][member][chunk]
        for (uint64_t j = 0; j < g; ++j)
          PJIT_RETURN_IF_ERROR(Copy2D(cu, out + j * chunk, row, received + j * block, chunk, chunk, sp.outer, stream));
    } else {
      return Unimplemented(t.kind, " ", t.name, ": not a collective the cuda platform runs");
    }
  }
  return OkStatus();
}

}  // namespace pjit
