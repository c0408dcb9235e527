#include "run/sharded_arrays.h"

#include <cstring>
#include <set>

namespace pjit {
namespace {

// Calls copy(global element, shard element) for each element of a shard of dims `sd`
// placed at `offsets` that lies inside global dims `gd`.
template <typename F>
void ForOverlap(const std::vector<int64_t>& gd, const std::vector<int64_t>& sd, const std::vector<int64_t>& offsets, F copy) {
  int64_t count = 1;
  for (int64_t d : sd) count *= d;
  std::vector<int64_t> gs = RowMajorStrides(gd), index(sd.size(), 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t g = 0;
    bool inside = true;
    for (size_t d = 0; d < sd.size(); ++d) {
      int64_t at = offsets[d] + index[d];
      inside = inside && at < gd[d];
      g += at * gs[d];
    }
    if (inside) copy(g, i);
    for (size_t d = sd.size(); d-- > 0;) {
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
    ForOverlap(global.shape().dims, shard.shape().dims, s.offsets, [&](int64_t g, int64_t i) {
      std::memcpy(shard.bytes().data() + i * w, global.bytes().data() + g * w, w);
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
    ForOverlap(global.shape().dims, shard.shape().dims, s.offsets, [&](int64_t g, int64_t i) {
      std::memcpy(global.bytes().data() + g * w, shard.bytes().data() + i * w, w);
    });
  }
  return global;
}

}  // namespace pjit
