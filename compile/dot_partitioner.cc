#include "compile/dot_partitioner.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "compile/reshard.h"

namespace pjit {
namespace {

// Where each iteration dim comes from in the operands and the result.
struct DotDims {
  std::vector<int64_t> lhs_of, rhs_of, result_of;  // per iteration dim: operand/result dim or -1
  int64_t result_rank = 0, contracting = 0;        // iteration dims: result dims, then contracting
};

DotDims Analyze(const Instruction& dot) {
  const DotDimensionNumbers& d = dot.dot_dims;
  int64_t lr = dot.operand(0)->shape.rank(), rr = dot.operand(1)->shape.rank();
  auto free_dims = [](int64_t rank, const std::vector<int64_t>& batch, const std::vector<int64_t>& contracting) {
    std::vector<int64_t> f;
    for (int64_t i = 0; i < rank; ++i)
      if (std::count(batch.begin(), batch.end(), i) == 0 && std::count(contracting.begin(), contracting.end(), i) == 0)
        f.push_back(i);
    return f;
  };
  std::vector<int64_t> lf = free_dims(lr, d.lhs_batch, d.lhs_contracting), rf = free_dims(rr, d.rhs_batch, d.rhs_contracting);
  DotDims dd;
  for (size_t i = 0; i < d.lhs_batch.size(); ++i) {
    dd.lhs_of.push_back(d.lhs_batch[i]);
    dd.rhs_of.push_back(d.rhs_batch[i]);
  }
  for (int64_t l : lf) {
    dd.lhs_of.push_back(l);
    dd.rhs_of.push_back(-1);
  }
  for (int64_t r : rf) {
    dd.lhs_of.push_back(-1);
    dd.rhs_of.push_back(r);
  }
  dd.result_rank = static_cast<int64_t>(dd.lhs_of.size());
  for (int64_t i = 0; i < dd.result_rank; ++i) dd.result_of.push_back(i);
  for (size_t i = 0; i < d.lhs_contracting.size(); ++i) {
    dd.lhs_of.push_back(d.lhs_contracting[i]);
    dd.rhs_of.push_back(d.rhs_contracting[i]);
    dd.result_of.push_back(-1);
  }
  dd.contracting = static_cast<int64_t>(d.lhs_contracting.size());
  return dd;
}

enum class Source { kLhs, kRhs, kResult, kNone };

// Takes each iteration dim's split from `source[i]`'s tiling; nullopt if the mix is not a
// tiling (the result is a split of the iteration space).
std::optional<Tiling> Mix(const DotDims& dd, const std::vector<Source>& source, const Tiling& lhs, const Tiling& rhs,
                          const Tiling& result) {
  std::vector<TileCoords> cl = DeviceTileCoords(lhs), cr = DeviceTileCoords(rhs), co = DeviceTileCoords(result);
  size_t n = cl.size(), dims = dd.lhs_of.size();
  std::vector<int64_t> counts(dims, 1);
  std::vector<std::vector<int64_t>> tiles(n, std::vector<int64_t>(dims, 0));
  for (size_t i = 0; i < dims; ++i) {
    const Tiling* t = nullptr;
    const std::vector<TileCoords>* coords = nullptr;
    int64_t dim = -1;
    if (source[i] == Source::kLhs) t = &lhs, coords = &cl, dim = dd.lhs_of[i];
    if (source[i] == Source::kRhs) t = &rhs, coords = &cr, dim = dd.rhs_of[i];
    if (source[i] == Source::kResult) t = &result, coords = &co, dim = dd.result_of[i];
    if (!t || dim < 0) continue;
    counts[i] = t->dims[dim];
    for (size_t d = 0; d < n; ++d) tiles[d][i] = (*coords)[d].tile[dim];
  }
  return TilingFromTiles(counts, tiles);
}

// The tiling of an operand or result whose dim of[i] is iteration dim i.
Tiling Project(const Tiling& iteration, const std::vector<int64_t>& of, int64_t rank) {
  std::vector<int64_t> from(static_cast<size_t>(rank), -1);
  for (size_t i = 0; i < of.size(); ++i)
    if (of[i] >= 0) from[of[i]] = static_cast<int64_t>(i);
  return MapTiling(iteration, from);
}

bool SplitsContracting(const DotDims& dd, const Tiling& iteration) {
  for (int64_t i = dd.result_rank; i < dd.result_rank + dd.contracting; ++i)
    if (iteration.dims[i] > 1) return true;
  return false;
}

}  // namespace

ShardedArray PartitionDot(SpmdBuilder& b, const Instruction& dot, const ShardedArray& lhs, const ShardedArray& rhs,
                          const Tiling& want) {
  DotDims dd = Analyze(dot);
  const Shape &ls = dot.operand(0)->shape, &rs = dot.operand(1)->shape;
  size_t dims = dd.lhs_of.size();
  auto sources = [&](Source batch, Source lfree, Source rfree, Source contracting) {
    std::vector<Source> s(dims);
    for (size_t i = 0; i < dims; ++i) {
      bool l = dd.lhs_of[i] >= 0, r = dd.rhs_of[i] >= 0;
      if (static_cast<int64_t>(i) >= dd.result_rank) s[i] = contracting;
      else if (l && r) s[i] = batch;
      else s[i] = l ? lfree : rfree;
    }
    return s;
  };
  using S = Source;
  const std::vector<std::vector<Source>> tries = {
      sources(S::kLhs, S::kLhs, S::kRhs, S::kLhs),     sources(S::kRhs, S::kLhs, S::kRhs, S::kRhs),
      sources(S::kResult, S::kResult, S::kResult, S::kLhs), sources(S::kResult, S::kResult, S::kResult, S::kRhs),
      sources(S::kResult, S::kResult, S::kResult, S::kNone), sources(S::kLhs, S::kLhs, S::kNone, S::kLhs),
      sources(S::kRhs, S::kNone, S::kRhs, S::kRhs),    sources(S::kNone, S::kNone, S::kNone, S::kNone)};
  std::optional<Tiling> best;
  int64_t best_cost = std::numeric_limits<int64_t>::max();
  for (const auto& s : tries) {
    std::optional<Tiling> c = Mix(dd, s, lhs.tiling, rhs.tiling, want);
    if (!c) continue;
    Tiling result = Project(*c, dd.result_of, dd.result_rank);
    int64_t cost = ReshardBytes(ls, lhs.tiling, Project(*c, dd.lhs_of, ls.rank())) +
                   ReshardBytes(rs, rhs.tiling, Project(*c, dd.rhs_of, rs.rank()));
    if (SplitsContracting(dd, *c)) cost += 2 * ShardShape(dot.shape, result).ByteSize();
    cost += ReshardBytes(dot.shape, result, want);
    if (cost < best_cost) best_cost = cost, best = std::move(c);
  }
  const Tiling& c = *best;  // the unsplit candidate always exists

  Tiling lt = Project(c, dd.lhs_of, ls.rank()), rt = Project(c, dd.rhs_of, rs.rank());
  Instruction* l = Reshard(b, lhs.local, ls, lhs.tiling, lt);
  Instruction* r = Reshard(b, rhs.local, rs, rhs.tiling, rt);
  if (SplitsContracting(dd, c)) {  // padding would add garbage to the partial sums
    l = b.MaskPadding(l, ls, lt, dot.dot_dims.lhs_contracting, b.Scalar(ls.dtype, 0));
    r = b.MaskPadding(r, rs, rt, dot.dot_dims.rhs_contracting, b.Scalar(rs.dtype, 0));
  }
  Tiling result = Project(c, dd.result_of, dd.result_rank);
  Instruction local = dot;
  local.name = dot.name;
  local.operands = {l, r};
  local.shape = ShardShape(dot.shape, result);
  local.sharding.reset();
  local.sharding_provenance = {};
  Instruction* y = b.Add(std::move(local));
  if (!SplitsContracting(dd, c)) return {y, result};

  std::vector<int64_t> contracting;
  for (int64_t i = dd.result_rank; i < dd.result_rank + dd.contracting; ++i) contracting.push_back(i);
  std::vector<std::vector<int64_t>> groups = GroupsVaryingOn(c, contracting, true);
  auto [sum, tiling] = CombinePartials(b, y, dot.shape, groups, b.module().Reducer(Opcode::kAdd, dot.shape.dtype), result, want);
  return {sum, tiling};
}

}  // namespace pjit
