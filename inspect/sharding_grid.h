// pjit-inspect --shardings: which device holds which part of an array, drawn as a grid the
// way jax.debug.visualize_array_sharding does. The layout is computed from the sharding's
// tile assignment alone (ceil(n/k) per tile, as the partitioner and the runtime split arrays);
// a test checks it against the shards pjit-run actually hands each device.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "format/hlo_sharding.h"
#include "format/mesh.h"
#include "format/shape.h"
#include "format/status.h"
#include "inspect/json_writer.h"

namespace pjit {

struct ShardingTile {
  std::vector<std::pair<int64_t, int64_t>> ranges;  // [begin, end) of each array dim; empty: padding only
  std::vector<int64_t> devices;                     // every device that holds the tile, ascending
};

struct ShardingLayout {
  std::string name;
  Shape shape;                  // an array
  std::string sharding;         // HLO text; "{replicated}" when the array has none
  bool manual = false;          // manual or partially manual: devices hold what the program says
  std::vector<int64_t> tiles_per_dim;
  std::vector<ShardingTile> tiles;  // row-major over tiles_per_dim
};

// The layouts of `shape`'s arrays (one per tuple leaf, named name{i}) under `sharding` on `mesh`.
StatusOr<std::vector<ShardingLayout>> LayoutsOf(const std::string& name, const Shape& shape,
                                                const std::optional<HloSharding>& sharding, const Mesh& mesh);

struct GridStyle {
  bool ascii = false;  // +-| instead of box drawing
  bool color = false;  // a background colour per device set (ANSI 256 colours)
};

// A title line, a line that says which dims the rows and columns split, and the grid.
std::string DrawShardingGrid(const ShardingLayout& layout, const GridStyle& style);
void ShardingLayoutJson(const ShardingLayout& layout, JsonWriter& j);

}  // namespace pjit
