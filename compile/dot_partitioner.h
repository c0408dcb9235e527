// Partitions a dot (GSPMD's dot handler): chooses how the iteration space (batch, lhs-free,
// rhs-free and contracting dims) is split over the devices among candidates taken from the
// operands' and the result's shardings, by the bytes each needs to move; emits the operand
// reshards, the local dot, and, when contracting dims are split, the sum of partial results
// (a reduce-scatter when the wanted result is split that way, else an all-reduce).
#pragma once

#include "compile/sharding_util.h"
#include "compile/spmd_builder.h"

namespace pjit {

struct ShardedArray {
  Instruction* local = nullptr;
  Tiling tiling;
};

// `dot` is the global instruction; lhs/rhs are its operands' shards; `want` is the tiling
// the result should have (the returned one may differ: callers reshard as they need).
ShardedArray PartitionDot(SpmdBuilder& b, const Instruction& dot, const ShardedArray& lhs, const ShardedArray& rhs,
                          const Tiling& want);

}  // namespace pjit
