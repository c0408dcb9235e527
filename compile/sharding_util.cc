#include "compile/sharding_util.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "format/partition_spec.h"

namespace pjit {
namespace {

int64_t Product(const std::vector<int64_t>& v) {
  return std::accumulate(v.begin(), v.end(), int64_t{1}, std::multiplies<>());
}

// The devices of an array of shape `dims`, transposed: result dim i is input dim perm[i].
std::vector<int64_t> TransposeArray(const std::vector<int64_t>& values, const std::vector<int64_t>& dims,
                                    const std::vector<int64_t>& perm) {
  IotaTileAssignment order{{Product(dims)}, dims, perm};
  std::vector<int64_t> out;
  for (int64_t i : order.Expand()) out.push_back(values[i]);
  return out;
}

std::vector<int64_t> WithReplication(const Tiling& t) {
  std::vector<int64_t> d = t.dims;
  d.push_back(t.replication);
  return d;
}

}  // namespace

int64_t Tiling::num_tiles() const { return Product(dims); }

std::optional<Tiling> ToTiling(const HloSharding& s, int64_t rank, const Mesh& mesh) {
  Tiling t;
  if (s.kind == HloSharding::Kind::kReplicated) {
    t.dims.assign(static_cast<size_t>(rank), 1);
    t.replication = mesh.device_count();
    t.devices = mesh.device_ids;
    return t;
  }
  if (!s.IsTiled() || !s.last_tile_dims.empty() || s.TiledRank() != rank) return std::nullopt;
  t.dims.assign(s.tiles.dims.begin(), s.tiles.dims.begin() + rank);
  t.replication = s.last_tile_dim_replicate ? s.tiles.dims.back() : 1;
  t.devices = s.tiles.Devices();
  return t;
}

HloSharding FromTiling(const Tiling& t, const Mesh& mesh) {
  if (t.num_tiles() == 1) return HloSharding::Replicated();
  TileAssignment tiles;
  tiles.dims = t.dims;
  if (t.replication > 1) tiles.dims.push_back(t.replication);
  tiles.explicit_devices = t.devices;
  HloSharding s = HloSharding::Tiled(std::move(tiles), t.replication > 1);
  int64_t rank = static_cast<int64_t>(t.dims.size());
  if (static_cast<int64_t>(t.devices.size()) == mesh.device_count()) {
    StatusOr<PartitionSpec> spec = ShardingToPartitionSpec(s, mesh, rank);
    if (spec.ok()) {
      StatusOr<HloSharding> canonical = PartitionSpecToSharding(*spec, mesh, rank);
      if (canonical.ok()) return *canonical;
    }
  }
  return s;
}

int64_t NumDataTiles(const HloSharding& s) {
  switch (s.kind) {
    case HloSharding::Kind::kReplicated: return 1;
    case HloSharding::Kind::kTiled: {
      int64_t n = 1;
      for (int64_t i = 0; i < s.TiledRank(); ++i) n *= s.tiles.dims[i];
      return n;
    }
    case HloSharding::Kind::kTuple: {
      int64_t n = 0;
      for (const HloSharding& e : s.elements) n += NumDataTiles(e);
      return n;
    }
    default: return 0;
  }
}

bool IsMoreSpecific(const HloSharding& a, const std::optional<HloSharding>& b) {
  if (!b) return true;
  // A manual sharding wins over any automatic one: an instruction that reads a manual value
  // is inside the manual region (XLA's propagation gives manual shardings priority too).
  const bool a_manual = a.kind == HloSharding::Kind::kManual, b_manual = b->kind == HloSharding::Kind::kManual;
  if (a_manual != b_manual) return a_manual;
  return NumDataTiles(a) > NumDataTiles(*b);
}

Tiling TransposeTiling(const Tiling& t, const std::vector<int64_t>& perm) {
  std::vector<int64_t> full = perm;
  full.push_back(static_cast<int64_t>(perm.size()));  // replication stays last
  Tiling out;
  for (int64_t p : perm) out.dims.push_back(t.dims[p]);
  out.replication = t.replication;
  out.devices = TransposeArray(t.devices, WithReplication(t), full);
  return out;
}

Tiling ReplicateDims(const Tiling& t, const std::vector<int64_t>& dims) {
  int64_t rank = static_cast<int64_t>(t.dims.size());
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < rank; ++i)
    if (std::find(dims.begin(), dims.end(), i) == dims.end()) perm.push_back(i);
  for (int64_t d : dims) perm.push_back(d);
  perm.push_back(rank);
  Tiling out;
  out.devices = TransposeArray(t.devices, WithReplication(t), perm);
  out.dims = t.dims;
  out.replication = t.replication;
  for (int64_t d : dims) {
    out.replication *= t.dims[d];
    out.dims[d] = 1;
  }
  return out;
}

Tiling RemoveDims(const Tiling& t, const std::vector<int64_t>& dims) {
  Tiling out = t;
  out.dims.clear();
  for (size_t i = 0; i < t.dims.size(); ++i)
    if (std::find(dims.begin(), dims.end(), static_cast<int64_t>(i)) == dims.end()) out.dims.push_back(t.dims[i]);
  return out;
}

Tiling InsertDims(const Tiling& t, const std::vector<int64_t>& positions, int64_t rank) {
  Tiling out = t;
  out.dims.assign(static_cast<size_t>(rank), 1);
  for (size_t i = 0; i < positions.size(); ++i) out.dims[positions[i]] = t.dims[i];
  // Devices keep their order only if the inserted dims keep the input dims in order.
  std::vector<int64_t> order = positions;
  if (!std::is_sorted(order.begin(), order.end())) {
    std::vector<int64_t> perm(positions.size());
    std::iota(perm.begin(), perm.end(), 0);
    std::sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) { return positions[a] < positions[b]; });
    Tiling sorted = TransposeTiling(t, perm);
    out.devices = sorted.devices;
  }
  return out;
}

std::optional<Tiling> MergeTilings(const Tiling& a, const Tiling& b) {
  if (a.dims.size() != b.dims.size() || a.devices.size() != b.devices.size()) return std::nullopt;
  size_t rank = a.dims.size();
  std::vector<int64_t> merged(rank);
  for (size_t i = 0; i < rank; ++i) {
    if (a.dims[i] != b.dims[i] && a.dims[i] != 1 && b.dims[i] != 1) return std::nullopt;
    merged[i] = std::max(a.dims[i], b.dims[i]);
  }
  // Each device's tile index in both; the merged index takes each dim from whichever splits it.
  auto tile_index = [](const Tiling& t, size_t position) {
    std::vector<int64_t> index(t.dims.size());
    size_t rest = position / static_cast<size_t>(t.replication);
    for (size_t i = t.dims.size(); i-- > 0;) {
      index[i] = static_cast<int64_t>(rest % static_cast<size_t>(t.dims[i]));
      rest /= static_cast<size_t>(t.dims[i]);
    }
    return index;
  };
  std::map<int64_t, std::vector<int64_t>> b_index;
  for (size_t p = 0; p < b.devices.size(); ++p) b_index[b.devices[p]] = tile_index(b, p);
  std::map<std::vector<int64_t>, std::vector<int64_t>> groups;  // merged tile → devices, in a's order
  for (size_t p = 0; p < a.devices.size(); ++p) {
    auto it = b_index.find(a.devices[p]);
    if (it == b_index.end()) return std::nullopt;
    std::vector<int64_t> ia = tile_index(a, p), index(rank);
    for (size_t i = 0; i < rank; ++i) index[i] = a.dims[i] > 1 ? ia[i] : it->second[i];
    groups[index].push_back(a.devices[p]);
  }
  int64_t tiles = Product(merged);
  if (static_cast<int64_t>(groups.size()) != tiles) return std::nullopt;
  size_t group_size = a.devices.size() / static_cast<size_t>(tiles);
  Tiling out;
  out.dims = merged;
  out.replication = static_cast<int64_t>(group_size);
  for (const auto& [index, devices] : groups) {  // std::map orders tile indices row-major
    if (devices.size() != group_size) return std::nullopt;
    out.devices.insert(out.devices.end(), devices.begin(), devices.end());
  }
  return out;
}

std::vector<TileCoords> DeviceTileCoords(const Tiling& t) {
  std::vector<TileCoords> coords(t.devices.size());
  for (size_t p = 0; p < t.devices.size(); ++p) {
    TileCoords& c = coords[static_cast<size_t>(t.devices[p])];
    c.replica = static_cast<int64_t>(p) % t.replication;
    int64_t rest = static_cast<int64_t>(p) / t.replication;
    c.tile.assign(t.dims.size(), 0);
    for (size_t i = t.dims.size(); i-- > 0;) {
      c.tile[i] = rest % t.dims[i];
      rest /= t.dims[i];
    }
  }
  return coords;
}

std::optional<Tiling> TilingFromTiles(const std::vector<int64_t>& dims, const std::vector<std::vector<int64_t>>& tiles) {
  int64_t n = static_cast<int64_t>(tiles.size()), count = Product(dims);
  if (count == 0 || n % count != 0) return std::nullopt;
  Tiling t;
  t.dims = dims;
  t.replication = n / count;
  t.devices.assign(static_cast<size_t>(n), -1);
  std::vector<int64_t> holders(static_cast<size_t>(count), 0);
  for (int64_t d = 0; d < n; ++d) {
    int64_t linear = 0;
    for (size_t i = 0; i < dims.size(); ++i) {
      if (tiles[d][i] < 0 || tiles[d][i] >= dims[i]) return std::nullopt;
      linear = linear * dims[i] + tiles[d][i];
    }
    int64_t& h = holders[static_cast<size_t>(linear)];
    if (h == t.replication) return std::nullopt;
    t.devices[static_cast<size_t>(linear * t.replication + h++)] = d;
  }
  return t;
}

Tiling MapTiling(const Tiling& from, const std::vector<int64_t>& of) {
  std::vector<int64_t> counts;
  for (int64_t f : of) counts.push_back(f >= 0 ? from.dims[f] : 1);
  std::vector<std::vector<int64_t>> tiles;
  for (const TileCoords& c : DeviceTileCoords(from)) {
    std::vector<int64_t> t;
    for (int64_t f : of) t.push_back(f >= 0 ? c.tile[f] : 0);
    tiles.push_back(std::move(t));
  }
  return *TilingFromTiles(counts, tiles);  // a projection of a tiling is one
}

bool SameTiles(const Tiling& a, const Tiling& b) {
  if (a.dims != b.dims) return false;
  if (a.devices == b.devices) return true;
  std::vector<TileCoords> ca = DeviceTileCoords(a), cb = DeviceTileCoords(b);
  for (size_t d = 0; d < ca.size(); ++d)
    if (ca[d].tile != cb[d].tile) return false;
  return true;
}

}  // namespace pjit
