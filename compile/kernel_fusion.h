// Loop fusion for the CPU code generator: groups of entry instructions that compute one array
// element by element (or fold rows of one into a reduction) become one native kernel. A
// producer joins its consumers' groups when every user is in a group (so its value never
// needs a buffer): an elementwise op when they are all in one group (computing it in two was
// measured slower than storing it while reductions fold sequentially: softmax 154 vs 61 ms);
// broadcasts, reshapes, iotas and scalar constants are duplicated into
// every group that uses them; an expensive op is not fused under a broadcast (it would be
// recomputed for every broadcast element) unless it is a row value of the group: a value
// that depends only on the launch row, computed once per row before the row's elements.
// Row reductions over the same row join the group that way, so that softmax and layernorm
// are one kernel each that reads every row once from memory. Sibling kernels — elementwise
// roots of one shape reading a common input — then merge into one kernel that writes every
// root (multi-output fusion), so the input is read once. Instructions outside every group
// (dots, collectives, ...) lower as before.
#pragma once

#include <string>
#include <vector>

#include "format/hlo_module.h"

namespace pjit {

// The most instructions one kernel holds. The emitter recurses along a kernel's expressions
// and LLVM's time grows faster than a function's size (an elementwise chain in one kernel:
// 1k ops 1.25 s, 10k 53 s), so a longer chain becomes several kernels and compile time and
// stack depth stay linear in the program.
inline constexpr size_t kMaxKernelMembers = 256;

struct LoopFusion {
  std::string name;                        // the kernel's symbol: "fusion." + root name
  const Instruction* root = nullptr;       // the value the kernel writes (every leaf of a sort's or variadic reduction's tuple)
  // Earlier elementwise roots of the root's shape that the kernel writes too, at the same
  // elements, in program order (multi-output fusion); the kernel runs where the root is.
  std::vector<const Instruction*> siblings;
  std::vector<const Instruction*> members; // root and siblings included, in program order
  std::vector<const Instruction*> inputs;  // values read from buffers, in argument order
  // Members computed once per launch row, before its elements, in program order (the
  // reductions over the row inside the kernel and expensive values that follow from them),
  // with the dim of the iteration space each of their dims follows (-1: a dim of size 1).
  std::vector<const Instruction*> row_values;
  std::vector<std::vector<int64_t>> row_value_dims;
};

// How many leading dims of the root index the launch rows (row values' dims refer to them):
// all of a reduction's that folds its input's last dim (one row per output element), else
// all but the last.
int64_t LoopFusionRowRank(const LoopFusion& fusion);

// Whether the loop emitter compiles `in`: an elementwise op, compare, select, clamp, convert,
// broadcast, transpose, iota, scalar constant, slice, reverse, pad, concatenate, dynamic
// (update) slice or gather (without batching dims), on f32, f64, bf16, pred or integer
// arrays; a reduce-window of one array by a simple reducer (a loop over each element's
// window); an f32 or f64 convolution, grouped or not (a loop over each element's window and
// input features); a scatter of one operand by assignment or a simple reducer (a fusion root
// launched as one row: the operand copied, then the updates combined in order); or a reduction of one array by add, multiply, maximum, minimum, and or or (a
// fusion root with its input's producers fused into it, or, folding its input's trailing
// dims, a row value of its consumer's fusion when it folds that fusion's rows); or a sort
// of arrays of one shape along one dim by a comparator of such scalar ops (a fusion root
// launched over its sorted rows, writing one output per operand); or a variadic reduction
// by a reducer of such ops (a fusion root launched over its output elements).
bool IsLoopFusible(const Instruction& in);

// A reduction of several arrays at once (a tuple of results).
bool IsVariadicReduce(const Instruction& in);

// A reduction over its input's trailing dims (each output element folds a contiguous row).
bool IsTrailingReduction(const Instruction& in);
// A reduction that keeps its input's last dim: its kernel runs over the output's rows like
// an elementwise one and folds the input's rows into them in order (vectorised over the kept
// dim); every other reduction folds one output element per launch row.
bool IsColumnReduction(const Instruction& in);

// How a target cuts an elementwise root's last-dim rows into launch rows: the CPU cuts rows
// longer than 16384 elements into blocks of 8192 so that they split over cores; a GPU
// launches one thread per element (rows longer than 0, blocks of 1), so that neighbouring
// threads touch neighbouring elements. A fusion with row values is never cut (each block
// would fold the whole row), nor is a reduction's row: on a GPU a warp of `lanes` threads
// shares such a row (LoopFusionLanes), each lane taking every lanes-th element, so that
// neighbouring lanes read neighbouring elements, and folds combine across the warp by shuffles.
struct RowBlocking {
  int64_t long_row = 16384;
  int64_t block = 8192;
  int64_t lanes = 1;
};
inline constexpr RowBlocking kCpuRowBlocking{16384, 8192, 1};
inline constexpr RowBlocking kGpuRowBlocking{0, 1, 32};

// The rows a fusion's kernel is launched over: one per output element of a reduction (each
// folds the reduced elements, a variadic one's included), one for a scatter, one per sorted row of a sort, else one per
// block of a last-dim row of the root.
int64_t LoopFusionRows(const LoopFusion& fusion, RowBlocking blocking = kCpuRowBlocking);
// Elements of the last dim per launch row of an elementwise root (0 for a reduction).
int64_t LoopFusionBlock(const LoopFusion& fusion, RowBlocking blocking = kCpuRowBlocking);
// Threads that share each launch row: blocking.lanes for a row fold of at least that many
// elements and for a fusion with row values over a last dim that long, else 1.
int64_t LoopFusionLanes(const LoopFusion& fusion, RowBlocking blocking = kCpuRowBlocking);

// Bytes of scratch memory a fusion's kernel takes as its last argument (after its outputs):
// for a sort, a region per operand (SortScratchRegion of the operand's bytes, in operand
// order) that merge passes alternate with the outputs; 0 for every other kernel.
uint64_t LoopFusionScratchBytes(const LoopFusion& fusion);
// The inputs (indices into fusion.inputs) whose buffer the kernel's output may take when the
// kernel is their last reader: a single-output elementwise kernel without row values that
// reads the input only at the element it writes (same dims, every read at the root's index),
// so that each element is read before it is overwritten, by the same thread.
std::vector<size_t> LoopFusionInPlaceInputs(const LoopFusion& fusion);

// A scratch region's bytes rounded up to 64, so that each region starts aligned.
constexpr uint64_t SortScratchRegion(uint64_t bytes) { return (bytes + 63) / 64 * 64; }

std::vector<LoopFusion> FindLoopFusions(const Computation& entry);

// The loop fusions of the entry and of every computation that a while loop or conditional
// runs (their thunks nest in the entry's), in module order; a nested computation's kernels are
// named "fusion.COMPUTATION.ROOT", and a name already taken gets a suffix ".1", ".2", ...
std::vector<LoopFusion> FindModuleLoopFusions(const Module& module);

}  // namespace pjit
