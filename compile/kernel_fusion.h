// Loop fusion for the CPU code generator: groups of entry instructions that compute one array
// element by element (or fold rows of one into a reduction) become one native kernel. A
// producer joins its consumers' groups when every user is in a group (so its value never
// needs a buffer): an elementwise op when they are all in one group (computing it in two was
// measured slower than storing it while reductions fold sequentially: softmax 154 vs 61 ms);
// broadcasts, reshapes, iotas and scalar constants are duplicated into
// every group that uses them; an expensive op is not fused under a broadcast (it would be
// recomputed for every broadcast element). Instructions outside every group (dots,
// collectives, ...) lower as before.
#pragma once

#include <string>
#include <vector>

#include "format/hlo_module.h"

namespace pjit {

struct LoopFusion {
  std::string name;                        // the kernel's symbol: "fusion." + root name
  const Instruction* root = nullptr;       // the value the kernel writes
  std::vector<const Instruction*> members; // root included, in program order
  std::vector<const Instruction*> inputs;  // values read from buffers, in argument order
};

// Whether the loop emitter compiles `in`: an elementwise op, compare, select, clamp, convert,
// broadcast, transpose, iota or scalar constant, on f32, f64, bf16, pred or integer arrays; or
// a reduction of one array over its trailing dims by add, multiply, maximum, minimum, and or
// or (always a fusion root, its input's producers fused into it).
bool IsLoopFusible(const Instruction& in);

// The rows a fusion's kernel is launched over: one per output element of a reduction (each
// folds the reduced elements), else one per block of a last-dim row of the root: a row
// longer than 16384 elements is cut into blocks of 8192 so that it splits over cores.
int64_t LoopFusionRows(const LoopFusion& fusion);
// Elements of the last dim per launch row of an elementwise root (0 for a reduction).
int64_t LoopFusionBlock(const LoopFusion& fusion);

std::vector<LoopFusion> FindLoopFusions(const Computation& entry);

}  // namespace pjit
