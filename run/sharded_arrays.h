// Global arrays to per-device shards and back, as an artifact's signature lays them out: the
// runner's input sharding and output assembly.
#pragma once

#include <cstdint>
#include <vector>

#include "format/artifact.h"
#include "format/literal.h"
#include "format/status.h"

namespace pjit {

// What each of `num_devices` devices holds of `global` (indexed by device id). The padding
// of uneven shards is zero; a device `info` lists no shard for holds the whole array.
std::vector<Literal> ShardArray(const Literal& global, const ArrayInfo& info, int64_t num_devices);

// The global array from per-device shards (indexed by device id), each tile read from the
// first device that holds it.
StatusOr<Literal> AssembleArray(const std::vector<Literal>& shards, const ArrayInfo& info);

}  // namespace pjit
