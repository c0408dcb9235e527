// What a device executes, as plain structs (the THUNKS and EXECUTABLES sections): a sequence
// of thunks — kernel launches, matrix products, collectives, copies — over slices of one
// arena per device whose layout the compiler planned (offsets, sizes, peak).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "format/dtype.h"

namespace pjit {

struct BufferSlice {
  uint64_t offset = 0;
  uint64_t size = 0;
  bool operator==(const BufferSlice&) const = default;
};

// Runs kernel `kernel` of executables[executable]. `arguments` are the slices of its operands'
// leaves, then of its result's leaves. A native loop kernel has launch = {rows}: the runtime
// calls it on disjoint ranges of [0, rows), in parallel (see ExecutableInfo).
struct KernelThunk {
  uint32_t executable = 0;
  std::string kernel;
  std::vector<BufferSlice> arguments;
  std::vector<uint64_t> launch;
  bool operator==(const KernelThunk&) const = default;
};

// out[b] = op(lhs[b]) · op(rhs[b]) for b < batch, row-major m×k · k×n (op transposes when
// asked: lhs stored k×m, rhs stored n×k).
struct GemmThunk {
  BufferSlice lhs, rhs, out;
  DType dtype = DType::kF32;
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool transpose_lhs = false, transpose_rhs = false;
  bool operator==(const GemmThunk&) const = default;
};

// kind: all-reduce, all-gather, reduce-scatter, all-to-all, collective-permute. Groups list
// device ids (empty: every device); `dimension` is the gather/scatter/split dimension of
// `dims` (the shape of each input).
struct CollectiveThunk {
  std::string kind;
  std::string reduction;  // add, multiply, maximum, minimum, and, or (reducing kinds)
  DType dtype = DType::kF32;
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> replica_groups;
  std::vector<std::pair<int64_t, int64_t>> source_target_pairs;
  int64_t dimension = 0;
  std::vector<BufferSlice> inputs, outputs;
  int64_t channel_id = 0;
  std::string name;  // the instruction, for errors
  bool operator==(const CollectiveThunk&) const = default;
};

struct CopyThunk {
  BufferSlice source, destination;
  bool operator==(const CopyThunk&) const = default;
};

// Whiles and conditionals nest at most this deep, so that running them recursively stays
// within a stack; the compiler refuses deeper programs and the reader deeper plans.
inline constexpr int kMaxControlFlowNesting = 64;

// A while loop: the thunks of nested[condition] leave the loop's pred at `predicate`; while it
// is true, nested[body] runs (its last thunks write the next loop state over the state's
// buffers, which both lists read) and the condition again.
struct WhileThunk {
  uint32_t condition = 0, body = 0;
  BufferSlice predicate;
  std::string name;  // the instruction, for errors
  bool operator==(const WhileThunk&) const = default;
};

// Runs the thunks of nested[branches[i]]: i is the s32 at `index` (one out of range takes the
// last branch, as XLA does), or for a pred index, 0 when it is true and 1 when false.
struct ConditionalThunk {
  BufferSlice index;
  bool predicate = false;  // the index is a pred
  std::vector<uint32_t> branches;
  std::string name;
  bool operator==(const ConditionalThunk&) const = default;
};

using Thunk = std::variant<KernelThunk, GemmThunk, CollectiveThunk, CopyThunk, WhileThunk, ConditionalThunk>;

// The nested thunk lists that a while or conditional thunk in `thunks` names, in order.
inline std::vector<uint32_t> NestedLists(const Thunk& thunk) {
  if (const auto* w = std::get_if<WhileThunk>(&thunk)) return {w->condition, w->body};
  if (const auto* c = std::get_if<ConditionalThunk>(&thunk)) return c->branches;
  return {};
}

// One buffer of the arena plan, for pjit-inspect --memory: the instruction (and leaf of its
// tuple) whose value it holds and the program positions (indices of the device program's
// entry instructions) from its definition through its last use. Outputs live to the end.
struct BufferInfo {
  enum class Kind : uint8_t { kParameter, kOutput, kConstant, kTemporary, kScratch };  // scratch: a kernel's own, live while it runs
  std::string instruction;
  uint32_t leaf = 0;
  Kind kind = Kind::kTemporary;
  BufferSlice slice;
  int64_t defined_at = 0, last_use = 0;
  bool operator==(const BufferInfo&) const = default;
};

struct ThunkSequence {
  int64_t device = -1;  // -1: every device of the mesh (an SPMD program has one plan)
  std::vector<Thunk> thunks;
  uint64_t arena_bytes = 0;  // the arena each device allocates
  uint64_t peak_bytes = 0;   // most bytes live at once
  std::vector<BufferSlice> parameters;  // where the leaves of the entry parameters live, in order
  std::vector<BufferSlice> results;     // where the leaves of the result live
  std::vector<BufferInfo> buffers;      // every planned buffer (debug information)
  // The thunk lists that while and conditional thunks run. A thunk of nested[i] names only
  // lists after i (a top-level thunk any), so lists nest without cycles.
  std::vector<std::vector<Thunk>> nested;
  bool operator==(const ThunkSequence&) const = default;
};

// A target's code. Format "hlo": no binary; kernel K is the entry instruction named K of the
// device program, run by the platform's reference kernels. Format "elf" (target x86_64): a
// shared object whose kernel K is `extern "C" void K(void* const* arguments, int64_t begin,
// int64_t end)`, with arguments the base addresses of the thunk's slices in order. Format
// "ptx" (target nvptx) and "cubin" (target sm_80, sm_90, ...): a CUDA module whose kernel K
// is `CudaKernelSymbol(K)(void* const* arguments, int64_t threads)`, arguments a device array of the slices'
// device addresses, launched over launches[i][0] threads (thread t runs launch row t).
//
// One artifact can carry the loop kernels for several targets: each such executable lists
// the same kernels in the same order, a kernel thunk names the first of them, and a platform
// runs the kernel of that name from the executable of its own target.
struct ExecutableInfo {
  std::string target;  // "hlo", "x86_64", "nvptx", "sm_90", ...
  std::string format;  // "hlo", "elf", "ptx", "cubin"
  std::vector<std::string> kernels;
  std::string binary;  // the code (a BINARY blob in the artifact); empty for "hlo"
  // x86_64: the CPU the code was compiled for and the extensions (avx2, avx512f, ...) it may
  // use, which a runtime checks before it loads the code.
  std::string cpu;
  std::vector<std::string> cpu_features;
  // Per kernel, the launch this target's code needs where it is not the thunk's (ptx and
  // cubin: {threads}); empty otherwise.
  std::vector<std::vector<uint64_t>> launches;
  bool operator==(const ExecutableInfo&) const = default;
};

// The executable of `target` in `format` among `executables`, or null.
inline const ExecutableInfo* FindExecutable(const std::vector<ExecutableInfo>& executables, const std::string& target,
                                            const std::string& format) {
  for (const ExecutableInfo& e : executables)
    if (e.target == target && e.format == format) return &e;
  return nullptr;
}

// A kernel's symbol in PTX, whose names allow only letters, digits, '_' and '$': every other
// byte of `kernel` becomes '$' and two hex digits ("fusion.add-1" -> "fusion$2eadd$2d1").
inline std::string CudaKernelSymbol(const std::string& kernel) {
  std::string out;
  for (char c : kernel) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_') {
      out += c;
    } else {
      out += '$';
      out += "0123456789abcdef"[u >> 4];
      out += "0123456789abcdef"[u & 15];
    }
  }
  return out;
}

struct ThunkPlan {
  std::vector<ExecutableInfo> executables;
  std::vector<ThunkSequence> sequences;
  bool operator==(const ThunkPlan&) const = default;
};

}  // namespace pjit
