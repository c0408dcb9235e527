#include "compile/reshard.h"

#include <algorithm>
#include <map>

namespace pjit {

std::vector<ReshardStep> PlanReshard(const Tiling& from, const Tiling& to) {
  std::vector<ReshardStep> plan;
  if (SameTiles(from, to)) return plan;
  Tiling cur = from;
  for (size_t i = 0; i < cur.dims.size(); ++i) {
    if (cur.dims[i] == 1 || to.dims[i] != 1) continue;
    for (size_t j = 0; j < cur.dims.size(); ++j) {
      if (cur.dims[j] != 1 || to.dims[j] != cur.dims[i]) continue;
      std::vector<int64_t> swap(cur.dims.size());
      for (size_t d = 0; d < swap.size(); ++d) swap[d] = static_cast<int64_t>(d);
      std::swap(swap[i], swap[j]);
      Tiling next = TransposeTiling(cur, swap);  // each device's tile on i becomes its tile on j
      plan.push_back({ReshardStep::Kind::kAllToAll, static_cast<int64_t>(i), cur, next, static_cast<int64_t>(j)});
      cur = std::move(next);
      break;
    }
  }
  for (size_t i = 0; i < cur.dims.size(); ++i) {
    if (cur.dims[i] == 1 || cur.dims[i] == to.dims[i]) continue;
    Tiling next = ReplicateDims(cur, {static_cast<int64_t>(i)});
    plan.push_back({ReshardStep::Kind::kAllGather, static_cast<int64_t>(i), cur, next});
    cur = std::move(next);
  }
  std::vector<int64_t> extra;  // split by the target only: sliced locally at the end
  for (size_t i = 0; i < cur.dims.size(); ++i)
    if (cur.dims[i] == 1 && to.dims[i] > 1) extra.push_back(static_cast<int64_t>(i));
  Tiling coarse = ReplicateDims(to, extra);
  if (!SameTiles(cur, coarse)) {
    plan.push_back({ReshardStep::Kind::kCollectivePermute, -1, cur, coarse});
    cur = coarse;
  }
  if (!extra.empty()) plan.push_back({ReshardStep::Kind::kDynamicSlice, -1, cur, to});
  return plan;
}

int64_t ReshardBytes(const Shape& global, const std::vector<ReshardStep>& plan) {
  int64_t bytes = 0;
  for (const ReshardStep& s : plan) {
    int64_t shard = ShardShape(global, s.from).ByteSize();
    if (s.kind == ReshardStep::Kind::kAllGather) bytes += shard * (s.from.dims[s.dim] - 1);
    if (s.kind == ReshardStep::Kind::kCollectivePermute) bytes += shard;
    if (s.kind == ReshardStep::Kind::kAllToAll) bytes += shard / s.from.dims[s.dim] * (s.from.dims[s.dim] - 1);
  }
  return bytes;
}

int64_t ReshardBytes(const Shape& global, const Tiling& from, const Tiling& to) {
  return ReshardBytes(global, PlanReshard(from, to));
}

std::vector<std::vector<int64_t>> GroupsVaryingOn(const Tiling& t, const std::vector<int64_t>& dims, bool by_replica) {
  std::vector<TileCoords> coords = DeviceTileCoords(t);
  std::map<std::vector<int64_t>, std::vector<std::pair<std::vector<int64_t>, int64_t>>> by_key;
  for (size_t d = 0; d < coords.size(); ++d) {
    std::vector<int64_t> key, order;
    for (size_t i = 0; i < coords[d].tile.size(); ++i) {
      bool varies = std::find(dims.begin(), dims.end(), static_cast<int64_t>(i)) != dims.end();
      (varies ? order : key).push_back(coords[d].tile[i]);
    }
    if (by_replica) key.push_back(coords[d].replica);
    by_key[key].push_back({order, static_cast<int64_t>(d)});
  }
  std::vector<std::vector<int64_t>> groups;
  for (auto& [key, members] : by_key) {
    std::sort(members.begin(), members.end());
    std::vector<int64_t> g;
    for (auto& m : members) g.push_back(m.second);
    groups.push_back(std::move(g));
  }
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) {
    return *std::min_element(a.begin(), a.end()) < *std::min_element(b.begin(), b.end());
  });
  return groups;
}

namespace {

Instruction* EmitAllGather(SpmdBuilder& b, Instruction* x, const Shape& global, const ReshardStep& s) {
  Instruction* g = b.AllGather(x, s.dim, GroupsVaryingOn(s.from, {s.dim}, true));
  std::vector<int64_t> limits = g->shape.dims;
  limits[s.dim] = ShardShape(global, s.to).dims[s.dim];  // drops the padding of uneven shards
  return b.Slice(g, limits);
}

// Pads dim j to k equal chunks, makes the chunk index the leading dim, exchanges chunks with
// the group that splits dim i (member r receives every member's chunk r), then puts the
// sender's index in front of dim i and merges them: dim i whole (less the padding of uneven
// pieces), dim j split.
Instruction* EmitAllToAll(SpmdBuilder& b, Instruction* x, const Shape& global, const ReshardStep& s) {
  const size_t i = static_cast<size_t>(s.dim), j = static_cast<size_t>(s.target_dim), rank = x->shape.dims.size();
  const int64_t k = s.from.dims[i];
  const Shape target = ShardShape(global, s.to);
  std::vector<int64_t> padded = x->shape.dims;
  padded[j] = target.dims[j] * k;
  if (padded != x->shape.dims) x = b.PadHigh(x, padded, b.Scalar(x->shape.dtype, 0));
  std::vector<int64_t> split, lead = {static_cast<int64_t>(j)};
  for (size_t d = 0; d < rank; ++d) {
    if (d == j) split.push_back(k);
    split.push_back(d == j ? target.dims[j] : padded[d]);
  }
  for (size_t p = 0; p <= rank; ++p)
    if (p != j) lead.push_back(static_cast<int64_t>(p));
  x = b.AllToAll(b.Transpose(b.Reshape(x, split), lead), 0, GroupsVaryingOn(s.from, {s.dim}, true));
  std::vector<int64_t> back, merged;
  for (size_t d = 0; d < rank; ++d) {
    if (d == i) back.push_back(0);
    back.push_back(static_cast<int64_t>(d) + 1);
    merged.push_back(d == i ? k * x->shape.dims[d + 1] : x->shape.dims[d + 1]);
  }
  return b.Slice(b.Reshape(b.Transpose(x, back), merged), target.dims);
}

// Each device receives its target tile from a device that holds it, itself when it can.
Instruction* EmitPermute(SpmdBuilder& b, Instruction* x, const ReshardStep& s) {
  std::vector<TileCoords> have = DeviceTileCoords(s.from), want = DeviceTileCoords(s.to);
  std::map<std::vector<int64_t>, std::vector<int64_t>> holders, needers;
  for (size_t d = 0; d < have.size(); ++d) holders[have[d].tile].push_back(static_cast<int64_t>(d));
  for (size_t d = 0; d < want.size(); ++d) needers[want[d].tile].push_back(static_cast<int64_t>(d));
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (auto& [tile, targets] : needers) {
    std::vector<int64_t>& sources = holders[tile];
    std::vector<int64_t> rest;
    for (int64_t t : targets) {
      auto self = std::find(sources.begin(), sources.end(), t);
      if (self != sources.end()) {
        pairs.push_back({t, t});
        sources.erase(self);
      } else {
        rest.push_back(t);
      }
    }
    for (size_t i = 0; i < rest.size(); ++i) pairs.push_back({sources[i], rest[i]});
  }
  std::sort(pairs.begin(), pairs.end());
  return b.CollectivePermute(x, std::move(pairs));
}

Instruction* EmitDynamicSlice(SpmdBuilder& b, Instruction* x, const Shape& global, const ReshardStep& s) {
  Shape target = ShardShape(global, s.to);
  std::vector<int64_t> padded = x->shape.dims;
  std::vector<Instruction*> starts;
  for (size_t i = 0; i < padded.size(); ++i) {
    if (s.to.dims[i] == s.from.dims[i]) {
      starts.push_back(b.Scalar(DType::kS32, 0));
      continue;
    }
    padded[i] = target.dims[i] * s.to.dims[i];  // every tile in bounds, so no start is clamped
    starts.push_back(b.TileOffset(s.to, global, static_cast<int64_t>(i)));
  }
  Instruction* zero = b.Scalar(x->shape.dtype, 0);
  return b.DynamicSlice(b.PadHigh(x, padded, zero), starts, target.dims);
}

}  // namespace

Instruction* EmitReshard(SpmdBuilder& b, Instruction* local, const Shape& global, const std::vector<ReshardStep>& plan) {
  if (plan.empty()) return local;
  b.BeginResharding(local, plan.front().from, plan.back().to);
  for (const ReshardStep& s : plan) {
    switch (s.kind) {
      case ReshardStep::Kind::kAllGather: local = EmitAllGather(b, local, global, s); break;
      case ReshardStep::Kind::kAllToAll: local = EmitAllToAll(b, local, global, s); break;
      case ReshardStep::Kind::kCollectivePermute: local = EmitPermute(b, local, s); break;
      case ReshardStep::Kind::kDynamicSlice: local = EmitDynamicSlice(b, local, global, s); break;
    }
  }
  b.EndResharding();
  return local;
}

std::pair<Instruction*, Tiling> CombinePartials(SpmdBuilder& b, Instruction* y, const Shape& global,
                                                const std::vector<std::vector<int64_t>>& groups, Computation* reducer,
                                                const Tiling& result, const Tiling& want) {
  int64_t k = static_cast<int64_t>(groups[0].size());
  std::vector<TileCoords> wc = DeviceTileCoords(want), rc = DeviceTileCoords(result);
  for (size_t j = 0; j < result.dims.size(); ++j) {
    if (result.dims[j] != 1 || want.dims[j] != k) continue;
    std::vector<std::vector<int64_t>> ordered = groups;
    std::vector<std::vector<int64_t>> tiles(wc.size());
    for (auto& g : ordered) {
      std::sort(g.begin(), g.end(), [&](int64_t a, int64_t c) { return wc[a].tile[j] < wc[c].tile[j]; });
      for (size_t p = 0; p < g.size(); ++p) {
        tiles[g[p]] = rc[g[p]].tile;
        tiles[g[p]][j] = static_cast<int64_t>(p);
      }
    }
    std::vector<int64_t> counts = result.dims;
    counts[j] = k;
    std::optional<Tiling> scattered = TilingFromTiles(counts, tiles);
    if (!scattered || !SameTiles(*scattered, want)) continue;
    std::vector<int64_t> padded = y->shape.dims;
    padded[j] = ShardShape(global, *scattered).dims[j] * k;
    Instruction* out = b.ReduceScatter(b.PadHigh(y, padded, b.Scalar(global.dtype, 0)), static_cast<int64_t>(j), reducer, ordered);
    return {out, *scattered};
  }
  return {b.AllReduce(y, reducer, groups), result};
}

Instruction* Reshard(SpmdBuilder& b, Instruction* local, const Shape& global, const Tiling& from, const Tiling& to) {
  return EmitReshard(b, local, global, PlanReshard(from, to));
}

}  // namespace pjit
