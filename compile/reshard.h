// Moving a sharded array from one tiling to another, as a plan of collective steps that the
// partitioner can cost before it emits them. A split that moves from one dim to another (the
// first unsplit in the target, the second unsplit now and split as many ways in the target)
// is one all-to-all, which moves (k-1)/k of a shard where gathering would move k-1 shards;
// then the plan gathers the dims whose split still changes, permutes tiles when devices hold
// them in another order, and slices locally where the target splits more: never more than
// the dims that change are gathered.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "compile/sharding_util.h"
#include "compile/spmd_builder.h"

namespace pjit {

struct ReshardStep {
  enum class Kind { kAllGather, kAllToAll, kCollectivePermute, kDynamicSlice };
  Kind kind;
  int64_t dim = -1;  // all-gather: the dim gathered; all-to-all: the dim whose split moves
  Tiling from, to;
  int64_t target_dim = -1;  // all-to-all: where the split moves to
};

std::vector<ReshardStep> PlanReshard(const Tiling& from, const Tiling& to);
// Bytes each device receives over the links while the plan runs.
int64_t ReshardBytes(const Shape& global, const std::vector<ReshardStep>& plan);
int64_t ReshardBytes(const Shape& global, const Tiling& from, const Tiling& to);

// Emits the plan; `local` is the device's shard under the plan's first tiling.
Instruction* EmitReshard(SpmdBuilder& b, Instruction* local, const Shape& global, const std::vector<ReshardStep>& plan);
Instruction* Reshard(SpmdBuilder& b, Instruction* local, const Shape& global, const Tiling& from, const Tiling& to);

// Combines partial results `y` (each device's part of a reduction under `result`, `global`
// being the full result's shape) over `groups` with `reducer`: a reduce-scatter when `want`
// splits a dim that `result` leaves whole as many ways as a group has members (each device
// keeps the part `want` gives it), else an all-reduce. Returns the value and its tiling.
std::pair<Instruction*, Tiling> CombinePartials(SpmdBuilder& b, Instruction* y, const Shape& global,
                                                const std::vector<std::vector<int64_t>>& groups, Computation* reducer,
                                                const Tiling& result, const Tiling& want);

// Devices grouped by everything but their tile coordinate on `dims` (and, when
// `by_replica` is set, their replica position); groups in order of their smallest member,
// members in order of their tile on `dims`.
std::vector<std::vector<int64_t>> GroupsVaryingOn(const Tiling& t, const std::vector<int64_t>& dims, bool by_replica);

}  // namespace pjit
