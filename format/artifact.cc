#include "format/artifact.h"

#include <algorithm>

namespace pjit {

namespace {

// Where each device's shard starts in every dim, for a sharding of an array of `shape`.
std::vector<DeviceShard> Shards(const std::optional<HloSharding>& sharding, const Shape& shape, const Shape& shard,
                                const Mesh& mesh) {
  std::vector<DeviceShard> out;
  std::vector<int64_t> zeros(shape.dims.size(), 0);
  if (!sharding || !sharding->IsTiled() || sharding->TiledRank() != shape.rank()) {
    for (int64_t device : mesh.device_ids)
      if (!sharding || sharding->kind != HloSharding::Kind::kMaximal || sharding->device == device) out.push_back({device, zeros});
    return out;
  }
  const std::vector<int64_t>& tile_dims = sharding->tiles.dims;
  int64_t subgroup = 1;  // devices per tile: replication and manual subgroup dims
  for (size_t i = static_cast<size_t>(sharding->TiledRank()); i < tile_dims.size(); ++i) subgroup *= tile_dims[i];
  std::vector<int64_t> devices = sharding->tiles.Devices();
  for (size_t p = 0; p < devices.size(); ++p) {
    std::vector<int64_t> offsets(shape.dims.size());
    int64_t rest = static_cast<int64_t>(p) / subgroup;
    for (int64_t d = sharding->TiledRank() - 1; d >= 0; --d) {
      offsets[d] = (rest % tile_dims[d]) * shard.dims[d];
      rest /= tile_dims[d];
    }
    out.push_back({devices[p], offsets});
  }
  std::sort(out.begin(), out.end(), [](const DeviceShard& a, const DeviceShard& b) { return a.device < b.device; });
  return out;
}

ArrayInfo Info(const std::string& name, const Shape& shape, const std::optional<HloSharding>& sharding, uint32_t index,
               const Mesh& mesh) {
  ArrayInfo info;
  info.name = name;
  info.index = index;
  info.shape = shape;
  info.shape.layout.reset();
  info.sharding = sharding;
  info.shard_shape = info.shape;
  if (sharding && sharding->IsTiled() && sharding->TiledRank() == info.shape.rank())
    for (int64_t d = 0; d < info.shape.rank(); ++d) {
      int64_t k = sharding->tiles.dims[d];
      info.shard_shape.dims[d] = (info.shape.dims[d] + k - 1) / k;
    }
  info.shards = Shards(sharding, info.shape, info.shard_shape, mesh);
  return info;
}

}  // namespace

Signature ShardedSignature(const Module& module, const Mesh& mesh) {
  Signature sig;
  const Computation& entry = *module.entry;
  for (const Instruction* p : entry.parameters)
    sig.inputs.push_back(Info(p->name, p->shape, p->sharding, static_cast<uint32_t>(sig.inputs.size()), mesh));
  const Instruction* root = entry.root;
  if (!root->shape.IsTuple()) {
    sig.outputs.push_back(Info(root->name, root->shape, root->sharding, 0, mesh));
    return sig;
  }
  // A tuple result gives one output per array leaf, in order.
  std::vector<const Shape*> leaves = LeafShapes(root->shape);
  bool flat_tuple = root->opcode == Opcode::kTuple && root->operands.size() == leaves.size();
  for (size_t i = 0; i < leaves.size(); ++i) {
    std::optional<HloSharding> s;
    if (root->sharding) s = root->sharding->kind == HloSharding::Kind::kTuple ? root->sharding->elements[i] : *root->sharding;
    else if (flat_tuple) s = root->operands[i]->sharding;
    std::string name = flat_tuple ? root->operands[i]->name : root->name + "." + std::to_string(i);
    sig.outputs.push_back(Info(name, *leaves[i], s, static_cast<uint32_t>(i), mesh));
  }
  return sig;
}

}  // namespace pjit
