#include "compile/spmd_builder.h"

#include <algorithm>
#include <map>

namespace pjit {

std::string SpmdModuleState::UniqueName(const std::string& base) {
  if (names.insert(base).second) return base;
  for (int64_t i = 1;; ++i) {
    std::string name = base + "." + std::to_string(i);
    if (names.insert(name).second) return name;
  }
}

Computation* SpmdModuleState::Reducer(Opcode op, DType t) {
  auto key = std::pair{static_cast<int>(op), t};
  if (auto it = reducers.find(key); it != reducers.end()) return it->second;
  auto c = std::make_unique<Computation>();
  c->name = UniqueName(std::string(OpcodeName(op)) + "." + std::string(DTypeName(t)));
  for (int64_t i = 0; i < 2; ++i) {
    auto p = std::make_unique<Instruction>();
    p->name = i == 0 ? "x" : "y";
    p->opcode = Opcode::kParameter;
    p->parameter_number = i;
    p->shape = Shape::Array(t, {});
    c->parameters.push_back(p.get());
    c->instructions.push_back(std::move(p));
  }
  auto r = std::make_unique<Instruction>();
  r->name = "r";
  r->opcode = op;
  r->shape = Shape::Array(t, {});
  r->operands = c->parameters;
  c->root = r.get();
  c->instructions.push_back(std::move(r));
  Computation* raw = c.get();
  helpers.push_back(std::move(c));
  reducers[key] = raw;
  return raw;
}

namespace {

std::string Where(const Instruction* origin) {
  if (!origin) return "";
  return StrCat(origin->location.empty() ? std::string() : origin->location + ": ", origin->name, ": ");
}

}  // namespace

void SpmdModuleState::CheckManualGroups(const std::vector<std::vector<int64_t>>& groups, const Instruction* origin) {
  if (!manual_group || !manual_violation.empty()) return;
  const std::vector<int64_t>& group = *manual_group;
  bool inside = !groups.empty();
  for (const std::vector<int64_t>& g : groups)
    for (int64_t d : g) inside = inside && group[static_cast<size_t>(d)] == group[static_cast<size_t>(g[0])];
  if (!inside)
    manual_violation = StrCat(Where(origin), "partitioning it would move data between the manual groups of a partially manual sharding");
}

void SpmdModuleState::CheckManualTiling(const Tiling& t, const Instruction* origin) {
  if (!manual_group || !manual_violation.empty()) return;
  const std::vector<int64_t>& group = *manual_group;
  int64_t groups = *std::max_element(group.begin(), group.end()) + 1;
  std::vector<TileCoords> coords = DeviceTileCoords(t);
  std::map<std::pair<int64_t, std::vector<int64_t>>, int64_t> held;  // (group, tile) -> devices
  for (size_t d = 0; d < coords.size(); ++d) ++held[{group[d], coords[d].tile}];
  bool every = static_cast<int64_t>(held.size()) == groups * t.num_tiles();
  for (const auto& [key, count] : held) every = every && count == held.begin()->second;
  if (!every)
    manual_violation = StrCat(Where(origin), "partitioning it would split an array across the manual groups of a partially manual sharding");
}

Shape ShardShape(const Shape& global, const Tiling& t) {
  Shape s = global;
  s.layout.reset();
  for (size_t i = 0; i < s.dims.size(); ++i) s.dims[i] = (s.dims[i] + t.dims[i] - 1) / t.dims[i];
  return s;
}

Instruction* SpmdBuilder::Add(Instruction in) {
  in.name = m_.UniqueName(in.name.empty() ? std::string(OpcodeName(in.opcode)) : in.name);
  if (origin_) {
    in.metadata = origin_->metadata;
    in.location = origin_->location;
    in.spmd_origin = resharding_;
    in.spmd_origin.instruction = origin_->name;
  }
  in.shape.layout.reset();
  auto owned = std::make_unique<Instruction>(std::move(in));
  Instruction* raw = owned.get();
  c_.instructions.push_back(std::move(owned));
  return raw;
}

void SpmdBuilder::BeginResharding(const Instruction* local, const Tiling& from, const Tiling& to) {
  resharding_.resharded = local->spmd_origin.instruction;
  resharding_.from_sharding = FromTiling(from, *m_.mesh).ToString();
  resharding_.to_sharding = FromTiling(to, *m_.mesh).ToString();
  resharding_.fallback = fallback_;
}

Instruction* SpmdBuilder::Op(Opcode op, Shape shape, std::vector<Instruction*> operands) {
  Instruction in;
  in.opcode = op;
  in.shape = std::move(shape);
  in.operands = std::move(operands);
  if (origin_) in.name = origin_->name;
  return Add(std::move(in));
}

Instruction* SpmdBuilder::Constant(Literal value) {
  Instruction in;
  in.opcode = Opcode::kConstant;
  in.shape = value.shape();
  in.literal = std::move(value);
  in.name = "constant";
  return Add(std::move(in));
}

Instruction* SpmdBuilder::Scalar(DType t, double value) {
  Literal l(Shape::Array(t, {}));
  l.SetFromDouble(0, value);
  return Constant(std::move(l));
}

Instruction* SpmdBuilder::Broadcast(Instruction* x, const Shape& shape, std::vector<int64_t> dims) {
  Instruction* b = Op(Opcode::kBroadcast, Shape::Array(x->shape.dtype, shape.dims), {x});
  b->dimensions = std::move(dims);
  return b;
}

Instruction* SpmdBuilder::Reshape(Instruction* x, std::vector<int64_t> dims) {
  if (x->shape.dims == dims) return x;
  return Op(Opcode::kReshape, Shape::Array(x->shape.dtype, std::move(dims)), {x});
}

Instruction* SpmdBuilder::SliceRange(Instruction* x, int64_t dim, int64_t start, int64_t limit) {
  std::vector<int64_t> dims = x->shape.dims;
  dims[dim] = limit - start;
  Instruction* s = Op(Opcode::kSlice, Shape::Array(x->shape.dtype, dims), {x});
  for (int64_t i = 0; i < x->shape.rank(); ++i) s->slice.push_back(i == dim ? SliceDim{start, limit, 1} : SliceDim{0, x->shape.dims[i], 1});
  return s;
}

Instruction* SpmdBuilder::Concatenate(const std::vector<Instruction*>& parts, int64_t dim) {
  std::vector<int64_t> dims = parts[0]->shape.dims;
  dims[dim] = 0;
  for (Instruction* p : parts) dims[dim] += p->shape.dims[dim];
  Instruction* c = Op(Opcode::kConcatenate, Shape::Array(parts[0]->shape.dtype, dims), parts);
  c->dimensions = {dim};
  return c;
}

Instruction* SpmdBuilder::Transpose(Instruction* x, const std::vector<int64_t>& perm) {
  std::vector<int64_t> dims;
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i) {
    dims.push_back(x->shape.dims[static_cast<size_t>(perm[i])]);
    identity = identity && perm[i] == static_cast<int64_t>(i);
  }
  if (identity) return x;
  Instruction* t = Op(Opcode::kTranspose, Shape::Array(x->shape.dtype, std::move(dims)), {x});
  t->dimensions = perm;
  return t;
}

Instruction* SpmdBuilder::Slice(Instruction* x, const std::vector<int64_t>& limits) {
  if (x->shape.dims == limits) return x;
  Instruction* s = Op(Opcode::kSlice, Shape::Array(x->shape.dtype, limits), {x});
  for (int64_t l : limits) s->slice.push_back({0, l, 1});
  return s;
}

Instruction* SpmdBuilder::PadHigh(Instruction* x, const std::vector<int64_t>& dims, Instruction* value) {
  if (x->shape.dims == dims) return x;
  Instruction* p = Op(Opcode::kPad, Shape::Array(x->shape.dtype, dims), {x, value});
  for (size_t i = 0; i < dims.size(); ++i) p->padding.push_back({0, dims[i] - x->shape.dims[i], 0});
  return p;
}

Instruction* SpmdBuilder::DynamicSlice(Instruction* x, const std::vector<Instruction*>& starts, const std::vector<int64_t>& sizes) {
  std::vector<Instruction*> operands = {x};
  operands.insert(operands.end(), starts.begin(), starts.end());
  Instruction* s = Op(Opcode::kDynamicSlice, Shape::Array(x->shape.dtype, sizes), std::move(operands));
  s->slice_sizes = sizes;
  return s;
}

Instruction* SpmdBuilder::Convert(Instruction* x, DType t) {
  if (x->shape.dtype == t) return x;
  return Op(Opcode::kConvert, Shape::Array(t, x->shape.dims), {x});
}

Instruction* SpmdBuilder::DeviceValue(const std::vector<int64_t>& table) {
  if (auto it = device_values_.find(table); it != device_values_.end()) return it->second;
  bool same = std::all_of(table.begin(), table.end(), [&](int64_t v) { return v == table[0]; });
  const Instruction* origin = origin_;
  origin_ = nullptr;  // shared by every instruction that needs it
  Instruction* value;
  if (same) {
    value = Scalar(DType::kS32, static_cast<double>(table[0]));
  } else {
    if (!partition_id_) {
      Instruction id;
      id.opcode = Opcode::kPartitionId;
      id.shape = Shape::Array(DType::kU32, {});
      id.name = "partition-id";
      partition_id_ = Add(std::move(id));
    }
    Literal l(Shape::Array(DType::kS32, {static_cast<int64_t>(table.size())}));
    for (size_t i = 0; i < table.size(); ++i) l.Set<int32_t>(static_cast<int64_t>(i), static_cast<int32_t>(table[i]));
    Instruction* t = Constant(std::move(l));
    Instruction* slice = DynamicSlice(t, {partition_id_}, {1});
    value = Reshape(slice, {});
  }
  origin_ = origin;
  device_values_[table] = value;
  return value;
}

Instruction* SpmdBuilder::TileOffset(const Tiling& t, const Shape& global, int64_t dim) {
  m_.CheckManualTiling(t, origin_);
  int64_t size = ShardShape(global, t).dims[dim];
  std::vector<TileCoords> coords = DeviceTileCoords(t);
  std::vector<int64_t> table;
  for (const TileCoords& c : coords) table.push_back(c.tile[dim] * size);
  return DeviceValue(table);
}

Instruction* SpmdBuilder::WithGroups(Instruction in, const std::vector<std::vector<int64_t>>& groups) {
  m_.CheckManualGroups(groups, origin_);
  in.channel_id = m_.next_channel_id++;
  in.use_global_device_ids = true;
  in.replica_groups.groups = groups;
  if (origin_) in.name = origin_->name + "." + std::string(OpcodeName(in.opcode));
  return Add(std::move(in));
}

Instruction* SpmdBuilder::AllGather(Instruction* x, int64_t dim, const std::vector<std::vector<int64_t>>& groups) {
  Instruction in;
  in.opcode = Opcode::kAllGather;
  in.shape = x->shape;
  in.shape.dims[dim] *= static_cast<int64_t>(groups[0].size());
  in.operands = {x};
  in.dimensions = {dim};
  return WithGroups(std::move(in), groups);
}

Instruction* SpmdBuilder::AllToAll(Instruction* x, int64_t dim, const std::vector<std::vector<int64_t>>& groups) {
  Instruction in;
  in.opcode = Opcode::kAllToAll;
  in.shape = x->shape;
  in.operands = {x};
  in.dimensions = {dim};
  return WithGroups(std::move(in), groups);
}

Instruction* SpmdBuilder::AllReduce(Instruction* x, Computation* reducer, const std::vector<std::vector<int64_t>>& groups) {
  Instruction in;
  in.opcode = Opcode::kAllReduce;
  in.shape = x->shape;
  in.operands = {x};
  in.called = {reducer};
  return WithGroups(std::move(in), groups);
}

Instruction* SpmdBuilder::ReduceScatter(Instruction* x, int64_t dim, Computation* reducer,
                                        const std::vector<std::vector<int64_t>>& groups) {
  Instruction in;
  in.opcode = Opcode::kReduceScatter;
  in.shape = x->shape;
  in.shape.dims[dim] /= static_cast<int64_t>(groups[0].size());
  in.operands = {x};
  in.dimensions = {dim};
  in.called = {reducer};
  return WithGroups(std::move(in), groups);
}

Instruction* SpmdBuilder::CollectivePermute(Instruction* x, std::vector<std::pair<int64_t, int64_t>> pairs) {
  Instruction in;
  in.opcode = Opcode::kCollectivePermute;
  in.shape = x->shape;
  in.operands = {x};
  for (const auto& [from, to] : pairs) m_.CheckManualGroups({{from, to}}, origin_);
  in.source_target_pairs = std::move(pairs);
  in.channel_id = m_.next_channel_id++;
  if (origin_) in.name = origin_->name + ".collective-permute";
  return Add(std::move(in));
}

Instruction* SpmdBuilder::MaskPadding(Instruction* x, const Shape& global, const Tiling& t, const std::vector<int64_t>& dims,
                                      Instruction* fill) {
  Instruction* keep = nullptr;
  Shape pred = Shape::Array(DType::kPred, x->shape.dims);
  Shape s32 = Shape::Array(DType::kS32, x->shape.dims);
  for (int64_t d : dims) {
    int64_t n = global.dims[d], k = t.dims[d];
    if (k == 1 || n % k == 0) continue;
    Instruction* iota = Op(Opcode::kIota, s32, {});
    iota->dimensions = {d};
    Instruction* index = Op(Opcode::kAdd, s32, {iota, Broadcast(TileOffset(t, global, d), s32, {})});
    Instruction* in_bounds = Op(Opcode::kCompare, pred, {index, Broadcast(Scalar(DType::kS32, static_cast<double>(n)), s32, {})});
    in_bounds->comparison_direction = ComparisonDirection::kLt;
    keep = keep ? Op(Opcode::kAnd, pred, {keep, in_bounds}) : in_bounds;
  }
  if (!keep) return x;
  return Op(Opcode::kSelect, x->shape, {keep, x, Broadcast(fill, x->shape, {})});
}

}  // namespace pjit
