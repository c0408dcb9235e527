#include "run/sharded_arrays.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace pjit {
namespace {

// Calls copy(global element, shard element, count) for each run of the last dim of a shard of
// dims `sd` placed at `offsets` that lies inside global dims `gd` (count elements, contiguous
// in both).
template <typename F>
void ForOverlap(const std::vector<int64_t>& gd, const std::vector<int64_t>& sd, const std::vector<int64_t>& offsets, F copy) {
  if (sd.empty()) return copy(0, 0, 1);
  const size_t last = sd.size() - 1;
  const int64_t run = std::min(sd[last], gd[last] - offsets[last]);
  int64_t rows = 1;
  for (size_t d = 0; d < last; ++d) rows *= sd[d];
  if (run <= 0 || sd[last] == 0) return;
  std::vector<int64_t> gs = RowMajorStrides(gd), index(last, 0);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t g = offsets[last];
    bool inside = true;
    for (size_t d = 0; d < last; ++d) {
      int64_t at = offsets[d] + index[d];
      inside = inside && at < gd[d];
      g += at * gs[d];
    }
    if (inside) copy(g, r * sd[last], run);
    for (size_t d = last; d-- > 0;) {
      if (++index[d] < sd[d]) break;
      index[d] = 0;
    }
  }
}

}  // namespace

std::vector<Literal> ShardArray(const Literal& global, const ArrayInfo& info, int64_t num_devices) {
  std::vector<Literal> out(static_cast<size_t>(num_devices));
  std::vector<bool> listed(static_cast<size_t>(num_devices), false);
  for (const DeviceShard& s : info.shards) {
    if (s.device < 0 || s.device >= num_devices) continue;
    listed[static_cast<size_t>(s.device)] = true;
    Literal shard(Shape::Array(global.shape().dtype, info.shard_shape.dims));
    size_t w = static_cast<size_t>(DTypeByteSize(global.shape().dtype));
    ForOverlap(global.shape().dims, shard.shape().dims, s.offsets, [&](int64_t g, int64_t i, int64_t n) {
      std::memcpy(shard.bytes().data() + i * w, global.bytes().data() + g * w, static_cast<size_t>(n) * w);
    });
    out[static_cast<size_t>(s.device)] = std::move(shard);
  }
  for (int64_t d = 0; d < num_devices; ++d)
    if (!listed[static_cast<size_t>(d)]) out[static_cast<size_t>(d)] = global;
  return out;
}

StatusOr<Literal> AssembleArray(const std::vector<Literal>& shards, const ArrayInfo& info) {
  Literal global(Shape::Array(info.shape.dtype, info.shape.dims));
  std::set<std::vector<int64_t>> done;
  for (const DeviceShard& s : info.shards) {
    if (s.device < 0 || s.device >= static_cast<int64_t>(shards.size()))
      return InvalidArgument(info.name, ": no result from device ", s.device);
    const Literal& shard = shards[static_cast<size_t>(s.device)];
    if (shard.shape().dims != info.shard_shape.dims || shard.shape().dtype != info.shape.dtype)
      return InvalidArgument(info.name, ": device ", s.device, " returned ", shard.shape().ToString(false), ", expected ",
                             Shape::Array(info.shape.dtype, info.shard_shape.dims).ToString(false));
    if (!done.insert(s.offsets).second) continue;
    size_t w = static_cast<size_t>(DTypeByteSize(info.shape.dtype));
    ForOverlap(global.shape().dims, shard.shape().dims, s.offsets, [&](int64_t g, int64_t i, int64_t n) {
      std::memcpy(global.bytes().data() + g * w, shard.bytes().data() + i * w, static_cast<size_t>(n) * w);
    });
  }
  return global;
}

}  // namespace pjit
