// Emits the instructions of a per-device (SPMD) computation: plain ops, constants, the
// device's tile offsets looked up by partition-id, collectives with fresh channel ids, and
// masks that hide the padding of uneven shards.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "compile/sharding_util.h"
#include "format/hlo_module.h"

namespace pjit {

// What every computation of one partitioned module shares: instruction names, channel ids,
// and the scalar reducers the partitioner adds.
struct SpmdModuleState {
  const Mesh* mesh = nullptr;  // for the shardings that SpmdOrigin names
  std::unordered_set<std::string> names;
  int64_t next_channel_id = 1;
  std::vector<std::unique_ptr<Computation>> helpers;  // reducers, in creation order
  std::map<std::pair<int, DType>, Computation*> reducers;

  // Partially manual shardings split the devices into manual groups, each of which runs the
  // automatic partitioning of its own data. While an instruction of such a region is
  // partitioned, manual_group gives each device's group (null elsewhere): data may then move
  // only within a group, and a device may take its part of an array only from a tiling in
  // which every group holds every tile; the first step against that is kept here, and
  // partitioning fails with it.
  const std::vector<int64_t>* manual_group = nullptr;
  std::string manual_violation;

  std::string UniqueName(const std::string& base);
  // A scalar computation combining two values of `t` with `op` (add, maximum, ...).
  Computation* Reducer(Opcode op, DType t);
  // Records a violation (made at `origin`) when `groups` (none: every device) cross manual groups.
  void CheckManualGroups(const std::vector<std::vector<int64_t>>& groups, const Instruction* origin);
  // Records a violation when some manual group lacks a tile of `t`.
  void CheckManualTiling(const Tiling& t, const Instruction* origin);
};

// The shape each device holds: ceil(n / tiles) on each dim.
Shape ShardShape(const Shape& global, const Tiling& t);

class SpmdBuilder {
 public:
  SpmdBuilder(Computation& computation, SpmdModuleState& module, int64_t num_devices)
      : c_(computation), m_(module), num_devices_(num_devices) {}

  // Instructions added from now on carry `origin`'s metadata and location.
  void SetOrigin(const Instruction* origin) { origin_ = origin; }
  SpmdModuleState& module() { return m_; }
  // Instructions added until EndResharding are marked as moving `local`'s value (the global
  // instruction it partitions) from tiling `from` to `to`.
  void BeginResharding(const Instruction* local, const Tiling& from, const Tiling& to);
  void EndResharding() { resharding_ = {}; }
  // While set, reshardings gather operands in full because the origin is not partitioned.
  void SetFallback(bool fallback) { fallback_ = fallback; }
  int64_t num_devices() const { return num_devices_; }

  // Appends `in` (name made unique from `in.name`, or from its opcode when empty).
  Instruction* Add(Instruction in);
  Instruction* Op(Opcode op, Shape shape, std::vector<Instruction*> operands);
  Instruction* Constant(Literal value);
  Instruction* Scalar(DType t, double value);
  Instruction* Broadcast(Instruction* x, const Shape& shape, std::vector<int64_t> dims);
  Instruction* Reshape(Instruction* x, std::vector<int64_t> dims);
  Instruction* Transpose(Instruction* x, const std::vector<int64_t>& perm);  // result dim i is x's dim perm[i]
  Instruction* Slice(Instruction* x, const std::vector<int64_t>& limits);  // [0, limit) on each dim
  Instruction* SliceRange(Instruction* x, int64_t dim, int64_t start, int64_t limit);  // [start, limit) on `dim` only
  Instruction* Concatenate(const std::vector<Instruction*>& parts, int64_t dim);
  Instruction* PadHigh(Instruction* x, const std::vector<int64_t>& dims, Instruction* value);
  Instruction* DynamicSlice(Instruction* x, const std::vector<Instruction*>& starts, const std::vector<int64_t>& sizes);
  Instruction* Convert(Instruction* x, DType t);

  // table[partition-id] as an s32 scalar (one lookup per distinct table in a computation).
  Instruction* DeviceValue(const std::vector<int64_t>& table);
  // Where this device's tile starts on `dim` under `t` for an array of `global` shape.
  Instruction* TileOffset(const Tiling& t, const Shape& global, int64_t dim);

  // Collectives over device groups (each group lists device ids in order).
  Instruction* AllGather(Instruction* x, int64_t dim, const std::vector<std::vector<int64_t>>& groups);
  Instruction* AllReduce(Instruction* x, Computation* reducer, const std::vector<std::vector<int64_t>>& groups);
  Instruction* ReduceScatter(Instruction* x, int64_t dim, Computation* reducer, const std::vector<std::vector<int64_t>>& groups);
  // Splits `dim` into as many chunks as a group has members and sends chunk r to member r,
  // which concatenates what it receives along `dim` in member order.
  Instruction* AllToAll(Instruction* x, int64_t dim, const std::vector<std::vector<int64_t>>& groups);
  Instruction* CollectivePermute(Instruction* x, std::vector<std::pair<int64_t, int64_t>> pairs);

  // x with the padding of uneven shards on `dims` (under `t`) replaced by the scalar `fill`.
  Instruction* MaskPadding(Instruction* x, const Shape& global, const Tiling& t, const std::vector<int64_t>& dims,
                           Instruction* fill);

 private:
  Instruction* WithGroups(Instruction in, const std::vector<std::vector<int64_t>>& groups);

  Computation& c_;
  SpmdModuleState& m_;
  int64_t num_devices_;
  const Instruction* origin_ = nullptr;
  SpmdOrigin resharding_;  // what instructions added now move (resharded empty: nothing)
  bool fallback_ = false;
  Instruction* partition_id_ = nullptr;
  std::map<std::vector<int64_t>, Instruction*> device_values_;
};

}  // namespace pjit
