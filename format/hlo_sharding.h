// XLA's HloSharding: which device holds which part of an array. Every text form XLA writes
// is parsed and printed exactly as XLA prints it:
//   {replicated}  {manual}  {unknown}  {maximal device=3}
//   {devices=[2,1,4]<=[8] last_tile_dim_replicate}  {devices=[2,2]0,2,1,3}
//   {devices=[4,2]<=[2,4]T(1,0) last_tile_dims={manual, replicated}}
//   {{replicated}, {devices=[2]0,1}}   (tuples)
// with optional " metadata={...}" and " shard_as N" / " shard_like N" suffixes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/iota_tile_assignment.h"
#include "format/shape.h"
#include "format/status.h"

namespace pjit {

// Devices laid out in an N-d array: tile (i, j, ...) lives on device at that position.
struct TileAssignment {
  std::vector<int64_t> dims;
  std::optional<IotaTileAssignment> iota;  // the compact form, when the text used it
  std::vector<int64_t> explicit_devices;   // row-major, when it did not

  std::vector<int64_t> Devices() const;  // row-major, whichever form
  int64_t num_tiles() const;
  bool operator==(const TileAssignment& o) const { return dims == o.dims && Devices() == o.Devices(); }
};

enum class SubgroupKind { kManual, kReplicated };

struct HloSharding {
  enum class Kind { kReplicated, kManual, kUnknown, kMaximal, kTiled, kTuple };

  Kind kind = Kind::kReplicated;
  int64_t device = 0;                       // kMaximal
  TileAssignment tiles;                     // kTiled
  bool last_tile_dim_replicate = false;     // the last tile dim replicates
  std::vector<SubgroupKind> last_tile_dims; // trailing tile dims that are manual/replicated
  std::vector<HloSharding> elements;        // kTuple: one per array leaf of the shape, flat
  std::vector<std::string> metadata;        // each "{op_name=...}" verbatim
  std::optional<int64_t> shard_as, shard_like;

  static HloSharding Replicated() { return {}; }
  static HloSharding Tiled(TileAssignment tiles, bool last_tile_dim_replicate = false);
  static HloSharding Tuple(std::vector<HloSharding> elements);

  bool IsTiled() const { return kind == Kind::kTiled; }
  // Tile dims that split array dims (without replicated/manual subgroup dims).
  int64_t TiledRank() const;

  std::string ToString() const;
  // Equality of what the sharding means: metadata is ignored, iota equals explicit lists.
  bool operator==(const HloSharding& o) const;
};

// Parses the text of a sharding attribute, braces included. On error, *error_offset is the
// offset in `text` of the offending character.
StatusOr<HloSharding> ParseHloSharding(std::string_view text, size_t* error_offset = nullptr);

// Tuple shardings list the array leaves of a tuple shape in order, flat, as XLA does.
int64_t LeafCount(const Shape& shape);
// The sharding of element `index` of a tuple-shaped value whose sharding is `s` (a tuple
// sharding, or one sharding for every leaf).
HloSharding ElementSharding(const HloSharding& s, const Shape& tuple_shape, int64_t index);
// `tuple` (or all-unknown leaves when absent) with element `index`'s leaves set from `e`.
HloSharding WithElementSharding(const std::optional<HloSharding>& tuple, const Shape& tuple_shape, int64_t index,
                                const HloSharding& e);

// How many devices a sharding's tiles need: their count, and more when they name higher
// device ids. A maximal sharding implies none: its device must lie in the mesh the tiles (or
// num_partitions, or --mesh) give, so one stray id cannot make a mesh of a million devices.
int64_t DevicesImplied(const HloSharding& sharding);

// Checks a sharding against the shape it annotates (tuple arity, tile rank, device ids).
Status ValidateSharding(const HloSharding& sharding, const Shape& shape, int64_t num_devices);

// XLA's canonical iota: size-1 dims dropped, dims adjacent in both orders merged.
IotaTileAssignment CanonicalIota(const IotaTileAssignment& iota);

}  // namespace pjit
