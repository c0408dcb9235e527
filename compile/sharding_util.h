// Operations on shardings that propagation rules compose (the role of XLA's
// hlo_sharding_util). They work on a "tiling": the data dims of a tiled sharding plus one
// replication factor, over a row-major device array. Manual subgroups are not handled here:
// functions given one return nullopt, and propagation leaves such shardings alone.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "format/hlo_sharding.h"
#include "format/mesh.h"

namespace pjit {

struct Tiling {
  std::vector<int64_t> dims;    // tiles per array dim
  int64_t replication = 1;      // devices holding each tile
  std::vector<int64_t> devices; // row-major over dims + [replication]

  int64_t num_tiles() const;
};

// Replicated shardings give all-ones dims over the mesh's devices.
std::optional<Tiling> ToTiling(const HloSharding& sharding, int64_t rank, const Mesh& mesh);
// In canonical form: replicated when nothing is split, the mesh's iota spelling when the
// device order is a PartitionSpec on the mesh, else an explicit device list.
HloSharding FromTiling(const Tiling& tiling, const Mesh& mesh);

// Tiles the data is split into (1 for replicated; 0 for shardings that are not tilings).
int64_t NumDataTiles(const HloSharding& sharding);
// True when `a` splits the data into more tiles than `b` (an absent `b` splits into none).
bool IsMoreSpecific(const HloSharding& a, const std::optional<HloSharding>& b);

// Result dim i is input dim perm[i].
Tiling TransposeTiling(const Tiling& t, const std::vector<int64_t>& perm);
// The dims in `dims` stop splitting the array: their tiles join the replication.
Tiling ReplicateDims(const Tiling& t, const std::vector<int64_t>& dims);
// Drops unsplit dims (each of `dims` must have one tile).
Tiling RemoveDims(const Tiling& t, const std::vector<int64_t>& dims);
// A rank-`rank` tiling where input dim i becomes dim positions[i]; other dims are unsplit.
Tiling InsertDims(const Tiling& t, const std::vector<int64_t>& positions, int64_t rank);
// The most refined tiling consistent with both, or nullopt when they conflict.
std::optional<Tiling> MergeTilings(const Tiling& a, const Tiling& b);

// Where a device's data lies in a tiling: its tile's coordinate on each array dim, and its
// position among the devices that hold the same tile.
struct TileCoords {
  std::vector<int64_t> tile;
  int64_t replica = 0;
};

// Indexed by device id; the tiling must name each of the devices 0..n-1 once.
std::vector<TileCoords> DeviceTileCoords(const Tiling& t);
// The tiling in which device d holds tile tiles[d] (replica positions follow device ids), or
// nullopt when the tiles are not held by equally many devices.
std::optional<Tiling> TilingFromTiles(const std::vector<int64_t>& dims, const std::vector<std::vector<int64_t>>& tiles);
// The tiling whose dim i is split as `from`'s dim of[i] (unsplit where of[i] is -1), each
// device keeping its tile there; `of` names each dim of `from` at most once.
Tiling MapTiling(const Tiling& from, const std::vector<int64_t>& of);
// True when every device holds the same part of the data under both.
bool SameTiles(const Tiling& a, const Tiling& b);

}  // namespace pjit
