// Named meshes and PartitionSpecs (the user's view, as in JAX and Shardy), and the exact
// conversion between a PartitionSpec on a mesh and an HloSharding (what XLA and JAX do).
//
//   mesh:            data=2,model=4            (row-major device ids 0..7 unless given)
//   PartitionSpec:   data,_   (data,model),_   _,model      ("_" leaves a dimension unsplit;
//                    "(a,b)" splits one dimension over several axes, a major)
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/hlo_sharding.h"
#include "format/mesh.h"
#include "format/status.h"

namespace pjit {

StatusOr<Mesh> ParseMesh(std::string_view text);
std::string MeshToString(const Mesh& mesh);

// The first mesh of Shardy's `xla.sdy.meshes` module frontend attribute, as JAX dumps carry
// it: {xla.sdy.meshes={mesh = #sdy.mesh<["data"=2, "model"=4]>}} (quotes may be escaped, and
// device_ids=[...] may follow the axes). nullopt when the attributes hold no such mesh.
StatusOr<std::optional<Mesh>> MeshFromFrontendAttributes(std::string_view attributes);

struct PartitionSpec {
  // For each array dimension, the mesh axes that split it, major first; empty: not split.
  // Dimensions past the end are not split.
  std::vector<std::vector<std::string>> dims;

  std::string ToString() const;
  bool operator==(const PartitionSpec&) const = default;
};

StatusOr<PartitionSpec> ParsePartitionSpec(std::string_view text);

// The HloSharding of an array of `rank` dims laid out by `spec` on `mesh`: mesh axes that the
// spec does not use replicate (last_tile_dim_replicate).
StatusOr<HloSharding> PartitionSpecToSharding(const PartitionSpec& spec, const Mesh& mesh, int64_t rank);

// The PartitionSpec on `mesh` that gives `sharding`, or NotFound when none does (a device
// order the mesh cannot express, manual subgroups, maximal shardings).
StatusOr<PartitionSpec> ShardingToPartitionSpec(const HloSharding& sharding, const Mesh& mesh, int64_t rank);

}  // namespace pjit
