#include "compile/spmd_partitioner.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <unordered_map>

#include "compile/dot_partitioner.h"
#include "compile/reshard.h"
#include "compile/sharding_rules.h"
#include "compile/sharding_util.h"
#include "compile/spmd_builder.h"
#include "format/verifier.h"

namespace pjit {
namespace {

using O = Opcode;

// A global instruction's value on this device: its local instruction and the tiling of
// each array leaf (flat, as tuple shardings list them). Manual values are per-device already.
struct Value {
  Instruction* local = nullptr;
  std::vector<Tiling> leaves;
  bool manual = false;
  std::vector<bool> manual_leaves = {};  // a tuple mixing manual and automatic leaves: which are manual
};

Tiling Replicated(int64_t rank, int64_t n) {
  Tiling t;
  t.dims.assign(static_cast<size_t>(rank), 1);
  t.replication = n;
  t.devices.resize(static_cast<size_t>(n));
  std::iota(t.devices.begin(), t.devices.end(), 0);
  return t;
}

// Manual leaves (those `manual` marks, when given) are per-device already and keep their shape.
Shape LocalShape(const Shape& global, const std::vector<Tiling>& leaves, size_t& next, const std::vector<bool>* manual) {
  if (!global.IsTuple()) {
    const size_t leaf = next++;
    return global.IsArray() && !(manual && (*manual)[leaf]) ? ShardShape(global, leaves[leaf]) : global;
  }
  std::vector<Shape> elements;
  for (const Shape& e : global.tuple_shapes) elements.push_back(LocalShape(e, leaves, next, manual));
  return Shape::Tuple(std::move(elements));
}

Shape LocalShape(const Shape& global, const std::vector<Tiling>& leaves, const std::vector<bool>* manual = nullptr) {
  size_t next = 0;
  return LocalShape(global, leaves, next, manual && !manual->empty() ? manual : nullptr);
}

bool IsSplit(const Tiling& t) { return t.num_tiles() > 1; }

bool PartiallyManual(const std::optional<HloSharding>& s) {
  if (!s) return false;
  if (s->kind == HloSharding::Kind::kTuple) return std::any_of(s->elements.begin(), s->elements.end(), [](const HloSharding& e) { return PartiallyManual(e); });
  return s->kind == HloSharding::Kind::kTiled &&
         std::count(s->last_tile_dims.begin(), s->last_tile_dims.end(), SubgroupKind::kManual) > 0;
}

// Whether each device's tile under `full` is its tile under `partial` within its manual
// group's block: the groups own distinct blocks of `full`'s tiles, each `partial`'s tiles wide
// on every dim — so that entering (SPMDFullToShardShape) or leaving (SPMDShardToFullShape) a
// partially manual region moves no data. When `full` is itself partially manual, its groups
// (`outer`) each join whole groups of `partial` into distinct blocks.
bool ManualBlocksAgree(const Tiling& full, const Tiling& partial, const std::vector<int64_t>& group, const std::vector<int64_t>& outer) {
  std::vector<TileCoords> f = DeviceTileCoords(full), p = DeviceTileCoords(partial);
  std::map<int64_t, int64_t> outer_of_group;
  for (size_t d = 0; d < f.size() && !outer.empty(); ++d) {
    auto [it, fresh] = outer_of_group.emplace(group.empty() ? 0 : group[d], outer[d]);
    if (!fresh && it->second != outer[d]) return false;  // a group split between outer groups
  }
  std::map<int64_t, std::vector<int64_t>> block_of_group;
  for (size_t d = 0; d < f.size(); ++d) {
    std::vector<int64_t> block;
    for (size_t k = 0; k < full.dims.size(); ++k) {
      const int64_t offset = f[d].tile[k] - p[d].tile[k];
      if (full.dims[k] % partial.dims[k] != 0 || offset < 0 || offset % partial.dims[k] != 0) return false;
      block.push_back(offset);
    }
    auto [it, fresh] = block_of_group.emplace(group.empty() ? 0 : group[d], block);
    if (!fresh && it->second != block) return false;
  }
  std::set<std::pair<int64_t, std::vector<int64_t>>> distinct;
  for (const auto& [g, block] : block_of_group) distinct.emplace(outer.empty() ? 0 : outer_of_group[g], block);
  return distinct.size() == block_of_group.size();
}

std::vector<int64_t> SplitDims(const Tiling& t, const std::vector<int64_t>& dims) {
  std::vector<int64_t> out;
  for (int64_t d : dims)
    if (t.dims[d] > 1) out.push_back(d);
  return out;
}

class ModulePartitioner {
 public:
  explicit ModulePartitioner(const Mesh& mesh) : mesh_(mesh), n_(mesh.device_count()) { state_.mesh = &mesh_; }

  // The tiling of each array leaf of `in`'s sharding; *manual: the leaves are manual. A
  // partially manual leaf is tiled on its automatic dims and replicated on its subgroups: each
  // manual group holds the whole array, split as the automatic dims say (see
  // SpmdModuleState::manual_group).
  StatusOr<std::vector<Tiling>> LeafTilings(const Instruction& in, bool* manual, std::vector<bool>* mixed = nullptr);
  StatusOr<Tiling> SubgroupTiling(const Instruction& in, const HloSharding& e, int64_t rank);
  // The manual group of each device under `in`'s partially manual sharding (after LeafTilings
  // read it); null when it has none.
  const std::vector<int64_t>* ManualGroups(const Instruction& in) const {
    auto it = manual_groups_.find(&in);
    return it == manual_groups_.end() ? nullptr : &it->second;
  }
  Computation* Clone(const Computation* c);
  // Partitions `c`; parameter 0 takes `param` leaves when given, the root is resharded to `root`.
  StatusOr<Computation*> Partition(const Computation& c, const std::vector<Tiling>* param, const std::vector<Tiling>* root);

  int64_t n() const { return n_; }
  SpmdModuleState& state() { return state_; }
  std::vector<std::string>& warnings() { return warnings_; }
  std::unique_ptr<Module> Assemble(const Module& global, Computation* entry);

 private:
  const Mesh& mesh_;
  int64_t n_;
  SpmdModuleState state_;
  std::vector<std::string> warnings_;
  std::map<const Computation*, Computation*> clones_;
  std::vector<std::unique_ptr<Computation>> cloned_, partitioned_;
  std::map<const Instruction*, std::vector<int64_t>> manual_groups_;
};

class ComputationPartitioner {
 public:
  ComputationPartitioner(ModulePartitioner& mp, Computation& out) : mp_(mp), b_(out, mp.state(), mp.n()), out_(out) {}

  Status Run(const Computation& in, const std::vector<Tiling>* param, const std::vector<Tiling>* root);

 private:
  StatusOr<Value> Handle(const Instruction& g, const std::vector<Tiling>& want, bool manual);
  const Value& Of(const Instruction* g) const { return values_.at(g); }
  Tiling Rep(int64_t rank) const { return Replicated(rank, mp_.n()); }
  // The operand's local array resharded to `to`.
  Instruction* Operand(const Instruction& g, size_t i, const Tiling& to);
  // A value (tuples leaf by leaf) resharded to `to`; manual values are per-device and stay.
  Instruction* ReshardValue(const Value& v, const Shape& global, const std::vector<Tiling>& to);
  Value ElementValue(const Value& v, size_t first, size_t count);
  // A copy of `g` on local operands and shape, with called computations cloned and a fresh channel.
  Instruction* Local(const Instruction& g, std::vector<Instruction*> operands, Shape shape);

  Value Fallback(const Instruction& g);
  Value SameRank(const Instruction& g, const Tiling& want, const std::vector<int64_t>& unsplit);
  Value Iota(const Instruction& g, const Tiling& want);
  Value Broadcast(const Instruction& g, const Tiling& want);
  Value Transpose(const Instruction& g, const Tiling& want);
  Value Reshape(const Instruction& g, const Tiling& want);
  Value Reduce(const Instruction& g, const Tiling& want);
  Value Convolution(const Instruction& g, const Tiling& want);
  Value Gather(const Instruction& g, const Tiling& want);
  std::optional<Value> MaskedGather(const Instruction& g, const GatherMapping& m, const Tiling& result, const Tiling& operand);
  Value Scatter(const Instruction& g, const Tiling& want);
  StatusOr<Value> While(const Instruction& g);
  StatusOr<Value> Conditional(const Instruction& g, const std::vector<Tiling>& want);
  StatusOr<Value> ManualBoundary(const Instruction& g, const std::vector<Tiling>& want);

  ModulePartitioner& mp_;
  SpmdBuilder b_;
  Computation& out_;
  std::unordered_map<const Instruction*, Value> values_;
};

// With `mixed`, a tuple may mix manual and automatic leaves: *mixed then says which are manual
// (else it is left empty).
StatusOr<std::vector<Tiling>> ModulePartitioner::LeafTilings(const Instruction& in, bool* manual, std::vector<bool>* mixed) {
  HloSharding s = in.sharding.value_or(HloSharding::Replicated());
  std::vector<const Shape*> leaves = LeafShapes(in.shape);
  if (s.kind == HloSharding::Kind::kTuple && s.elements.size() != leaves.size())
    return InvalidArgument(in.location, ": ", in.name, ": tuple sharding has ", s.elements.size(), " elements for ", leaves.size(), " leaves");
  std::vector<Tiling> out;
  int manual_leaves = 0;
  std::vector<bool> is_manual;
  for (size_t i = 0; i < leaves.size(); ++i) {
    HloSharding e = s.kind == HloSharding::Kind::kTuple ? s.elements[i] : s;
    int64_t rank = leaves[i]->rank();
    if (e.kind == HloSharding::Kind::kManual) ++manual_leaves;
    is_manual.push_back(e.kind == HloSharding::Kind::kManual);
    if (e.kind != HloSharding::Kind::kTiled) {
      out.push_back(Replicated(rank, n_));
      continue;
    }
    if (e.last_tile_dims.size() == 1 && e.last_tile_dims[0] == SubgroupKind::kReplicated) {
      e.last_tile_dims.clear();
      e.last_tile_dim_replicate = true;
    }
    std::optional<Tiling> t;
    if (!e.last_tile_dims.empty()) {
      PJIT_ASSIGN_OR_RETURN(t, SubgroupTiling(in, e, rank));
    } else {
      t = ToTiling(e, rank, mesh_);
    }
    bool ids_ok = t && static_cast<int64_t>(t->devices.size()) == n_;
    if (ids_ok) {
      std::vector<int64_t> sorted = t->devices;
      std::sort(sorted.begin(), sorted.end());
      for (int64_t d = 0; d < n_; ++d) ids_ok = ids_ok && sorted[d] == d;
    }
    if (!ids_ok)
      return InvalidArgument(in.location, ": ", in.name, ": sharding ", e.ToString(), " does not name each of the mesh's ", n_, " devices once");
    out.push_back(std::move(*t));
  }
  *manual = manual_leaves != 0;
  if (manual_leaves != 0 && manual_leaves != static_cast<int>(leaves.size())) {
    if (!mixed)
      return Unimplemented(in.location, ": ", in.name, ": a ", OpcodeName(in.opcode),
                           " of a tuple mixing manual and automatic shardings is not supported yet");
    *manual = false;
    *mixed = std::move(is_manual);
  }
  return out;
}

// A sharding with manual (and replicated) subgroup dims: tiled on the array dims, replicated
// over the subgroups; records which manual group each device is in (ManualGroups), which all
// partially manual leaves of `in` must agree on.
StatusOr<Tiling> ModulePartitioner::SubgroupTiling(const Instruction& in, const HloSharding& e, int64_t rank) {
  const size_t subgroups = e.last_tile_dims.size();
  if (e.tiles.dims.size() != static_cast<size_t>(rank) + subgroups)
    return InvalidArgument(in.location, ": ", in.name, ": sharding ", e.ToString(), " has ", e.tiles.dims.size(), " tile dims for a rank-",
                           rank, " array and ", subgroups, " subgroups");
  if (std::count(e.last_tile_dims.begin(), e.last_tile_dims.end(), SubgroupKind::kManual) > 1)
    return Unimplemented(in.location, ": ", in.name, ": sharding ", e.ToString(), " has nested manual subgroups");
  Tiling t;
  t.dims.assign(e.tiles.dims.begin(), e.tiles.dims.begin() + rank);
  for (size_t s = 0; s < subgroups; ++s) t.replication *= e.tiles.dims[static_cast<size_t>(rank) + s];
  t.devices = e.tiles.Devices();
  // A device's manual group is its coordinate on the manual tile dim.
  const size_t manual_dim = static_cast<size_t>(rank) +
                            static_cast<size_t>(std::find(e.last_tile_dims.begin(), e.last_tile_dims.end(), SubgroupKind::kManual) -
                                                e.last_tile_dims.begin());
  if (manual_dim >= e.tiles.dims.size()) return t;  // replicated subgroups only
  int64_t inner = 1;
  for (size_t d = manual_dim + 1; d < e.tiles.dims.size(); ++d) inner *= e.tiles.dims[d];
  std::vector<int64_t> group(static_cast<size_t>(n_), -1);
  for (size_t i = 0; i < t.devices.size(); ++i) {
    const int64_t d = t.devices[i];
    if (d < 0 || d >= n_) break;  // LeafTilings reports the device list
    group[static_cast<size_t>(d)] = static_cast<int64_t>(i) / inner % e.tiles.dims[manual_dim];
  }
  if (std::count(group.begin(), group.end(), -1)) return t;
  auto [it, fresh] = manual_groups_.emplace(&in, group);
  if (!fresh && it->second != group)
    return Unimplemented(in.location, ": ", in.name, ": sharding ", e.ToString(), " groups the devices unlike its other manual leaves");
  return t;
}

Computation* ModulePartitioner::Clone(const Computation* c) {
  if (auto it = clones_.find(c); it != clones_.end()) return it->second;
  auto copy = std::make_unique<Computation>();
  copy->name = state_.UniqueName(c->name);
  std::unordered_map<const Instruction*, Instruction*> map;
  for (const auto& in : c->instructions) {
    auto ci = std::make_unique<Instruction>(*in);
    ci->name = state_.UniqueName(in->name);
    for (Instruction*& o : ci->operands) o = map.at(o);
    for (Computation*& callee : ci->called) callee = Clone(callee);
    if (ci->channel_id) ci->channel_id = state_.next_channel_id++;  // unique among the generated ones
    ci->sharding.reset();
    ci->sharding_provenance = {};
    if (ci->opcode == O::kParameter) {
      if (copy->parameters.size() <= static_cast<size_t>(ci->parameter_number)) copy->parameters.resize(ci->parameter_number + 1);
      copy->parameters[ci->parameter_number] = ci.get();
    }
    if (in.get() == c->root) copy->root = ci.get();
    map[in.get()] = ci.get();
    copy->instructions.push_back(std::move(ci));
  }
  Computation* raw = copy.get();
  cloned_.push_back(std::move(copy));
  clones_[c] = raw;
  return raw;
}

StatusOr<Computation*> ModulePartitioner::Partition(const Computation& c, const std::vector<Tiling>* param,
                                                    const std::vector<Tiling>* root) {
  auto out = std::make_unique<Computation>();
  out->name = state_.UniqueName(c.name);
  ComputationPartitioner cp(*this, *out);
  PJIT_RETURN_IF_ERROR(cp.Run(c, param, root));
  Computation* raw = out.get();
  partitioned_.push_back(std::move(out));  // after the bodies it contains: callees first
  return raw;
}

std::unique_ptr<Module> ModulePartitioner::Assemble(const Module& global, Computation* entry) {
  auto m = std::make_unique<Module>();
  m->name = global.name;
  m->num_partitions = n_;
  m->replica_count = global.replica_count;
  for (auto* list : {&state_.helpers, &cloned_, &partitioned_})
    for (auto& c : *list) m->computations.push_back(std::move(c));
  m->entry = entry;
  return m;
}

Status ComputationPartitioner::Run(const Computation& in, const std::vector<Tiling>* param, const std::vector<Tiling>* root) {
  for (const auto& owned : in.instructions) {
    const Instruction& g = *owned;
    b_.SetOrigin(&g);
    bool manual = false;
    std::vector<bool> mixed;  // parameters, tuples, their elements and loops may mix manual and automatic leaves
    const bool may_mix = g.opcode == O::kParameter || g.opcode == O::kTuple || g.opcode == O::kGetTupleElement || g.opcode == O::kWhile;
    PJIT_ASSIGN_OR_RETURN(std::vector<Tiling> want, mp_.LeafTilings(g, &manual, may_mix ? &mixed : nullptr));
    // Inside a partially manual region (but not where SPMDFullToShardShape reshards its
    // automatic operand) data stays within the region's manual groups: the instruction's, or
    // where it leaves the region (SPMDShardToFullShape) or has none, its operand's.
    const bool leaving = g.opcode == O::kCustomCall && g.custom_call_target == "SPMDShardToFullShape";
    const std::vector<int64_t>* groups = leaving ? nullptr : mp_.ManualGroups(g);
    for (const Instruction* o : g.operands) groups = groups ? groups : mp_.ManualGroups(*o);
    const bool entering = g.opcode == O::kCustomCall && g.custom_call_target == "SPMDFullToShardShape";
    mp_.state().manual_group = entering ? nullptr : groups;
    Value v;
    if (g.opcode == O::kParameter) {
      if (param && g.parameter_number == 0) want = *param;
      Instruction p = g;
      p.shape = manual ? g.shape : LocalShape(g.shape, want, &mixed);
      p.sharding.reset();
      p.sharding_provenance = {};
      v = {b_.Add(std::move(p)), want, manual, mixed};
      if (out_.parameters.size() <= static_cast<size_t>(g.parameter_number)) out_.parameters.resize(g.parameter_number + 1);
      out_.parameters[g.parameter_number] = v.local;
    } else {
      PJIT_ASSIGN_OR_RETURN(v, Handle(g, want, manual));
    }
    values_[&g] = std::move(v);
  }
  const Value& r = Of(in.root);
  b_.SetOrigin(in.root);
  out_.root = root ? ReshardValue(r, in.root->shape, *root) : r.local;
  return OkStatus();
}

Instruction* ComputationPartitioner::Operand(const Instruction& g, size_t i, const Tiling& to) {
  const Value& v = Of(g.operand(i));
  if (v.manual) return v.local;
  return Reshard(b_, v.local, g.operand(i)->shape, v.leaves[0], to);
}

Instruction* ComputationPartitioner::ReshardValue(const Value& v, const Shape& global, const std::vector<Tiling>& to) {
  if (v.manual) return v.local;
  if (!global.IsTuple()) return global.IsArray() ? Reshard(b_, v.local, global, v.leaves[0], to[0]) : v.local;
  bool same = true;
  for (size_t i = 0; i < to.size(); ++i) same = same && ((!v.manual_leaves.empty() && v.manual_leaves[i]) || SameTiles(v.leaves[i], to[i]));
  if (same) return v.local;
  std::vector<Instruction*> elements;
  size_t first = 0;
  for (size_t e = 0; e < global.tuple_shapes.size(); ++e) {
    const Shape& es = global.tuple_shapes[e];
    size_t count = static_cast<size_t>(LeafCount(es));
    std::vector<Tiling> from_e(v.leaves.begin() + first, v.leaves.begin() + first + count);
    std::vector<Tiling> to_e(to.begin() + first, to.begin() + first + count);
    Value part = ElementValue(v, first, count);
    part.local = b_.Op(O::kGetTupleElement, LocalShape(es, from_e, &part.manual_leaves), {v.local});
    part.local->tuple_index = static_cast<int64_t>(e);
    if (part.manual) part.local->shape = es;
    elements.push_back(ReshardValue(part, es, to_e));
    first += count;
  }
  return b_.Op(O::kTuple, LocalShape(global, to, &v.manual_leaves), std::move(elements));
}

Instruction* ComputationPartitioner::Local(const Instruction& g, std::vector<Instruction*> operands, Shape shape) {
  Instruction in = g;
  in.operands = std::move(operands);
  in.shape = std::move(shape);
  for (Computation*& c : in.called) c = mp_.Clone(c);
  in.sharding.reset();
  in.sharding_provenance = {};
  if (in.channel_id) in.channel_id = mp_.state().next_channel_id++;
  return b_.Add(std::move(in));
}

// Leaves [first, first + count) of `v` as a value of their own (its `local` left to the caller):
// manual when they all are, mixed when some are.
Value ComputationPartitioner::ElementValue(const Value& v, size_t first, size_t count) {
  Value part{nullptr, std::vector<Tiling>(v.leaves.begin() + first, v.leaves.begin() + first + count), v.manual, {}};
  if (v.manual_leaves.empty()) return part;
  std::vector<bool> flags(v.manual_leaves.begin() + first, v.manual_leaves.begin() + first + count);
  const auto manual = static_cast<size_t>(std::count(flags.begin(), flags.end(), true));
  part.manual = count > 0 && manual == count;
  if (manual != 0 && manual != count) part.manual_leaves = std::move(flags);
  return part;
}

StatusOr<Value> ComputationPartitioner::Handle(const Instruction& g, const std::vector<Tiling>& want, bool manual) {
  bool boundary = g.opcode == O::kCustomCall &&
                  (g.custom_call_target == "SPMDFullToShardShape" || g.custom_call_target == "SPMDShardToFullShape");
  if (boundary) return ManualBoundary(g, want);
  // Tuples and their elements carry their operands' leaves as they are, manual or not.
  if (g.opcode == O::kTuple) {
    Value v;
    std::vector<bool> flags;
    std::vector<Instruction*> ops;
    for (const Instruction* o : g.operands) {
      const Value& e = Of(o);
      ops.push_back(e.local);
      v.leaves.insert(v.leaves.end(), e.leaves.begin(), e.leaves.end());
      for (size_t i = 0; i < e.leaves.size(); ++i) flags.push_back(e.manual || (!e.manual_leaves.empty() && e.manual_leaves[i]));
    }
    v.manual_leaves = flags;
    v = ElementValue(v, 0, v.leaves.size());
    std::vector<Shape> shapes;
    for (Instruction* op : ops) shapes.push_back(op->shape);
    v.local = b_.Op(O::kTuple, Shape::Tuple(std::move(shapes)), std::move(ops));
    return v;
  }
  if (g.opcode == O::kGetTupleElement) {
    const Value& t = Of(g.operand(0));
    size_t first = 0;
    for (int64_t e = 0; e < g.tuple_index; ++e) first += static_cast<size_t>(LeafCount(g.operand(0)->shape.tuple_shapes[e]));
    Value part = ElementValue(t, first, static_cast<size_t>(LeafCount(g.shape)));
    part.local = Local(g, {t.local}, t.local->shape.tuple_shapes[static_cast<size_t>(g.tuple_index)]);
    return part;
  }
  if (manual) {  // inside a manual region every operand is per-device already
    std::vector<Instruction*> ops;
    for (const Instruction* o : g.operands) {
      const Value& v = Of(o);
      // A replicated automatic value is the same whole array on every device: each device's
      // copy serves as its manual value.
      const bool replicated = v.manual_leaves.empty() && std::none_of(v.leaves.begin(), v.leaves.end(), IsSplit);
      if (!v.manual && !replicated)
        return Unimplemented(g.location, ": ", g.name, ": operand ", o->name, " enters a manual region without SPMDFullToShardShape");
      ops.push_back(v.local);
    }
    return Value{Local(g, std::move(ops), g.shape), want, true};  // loops and branches: their bodies as written
  }
  for (const Instruction* o : g.operands)
    if (Of(o).manual)
      return Unimplemented(g.location, ": ", g.name, ": operand ", o->name, " leaves a manual region without SPMDShardToFullShape");

  const Tiling w = want.empty() ? Rep(0) : want[0];  // an empty tuple has no leaves
  auto unsplit = [&](auto pred) {
    std::vector<int64_t> dims;
    for (int64_t i = 0; i < g.shape.rank(); ++i)
      if (pred(i)) dims.push_back(i);
    return dims;
  };
  const Shape* op0 = g.operands.empty() ? nullptr : &g.operand(0)->shape;
  switch (g.opcode) {
    case O::kConstant: {
      Instruction* c = Local(g, {}, g.shape);
      c->shape.layout.reset();
      return Value{Reshard(b_, c, g.shape, Rep(g.shape.rank()), w), {w}};
    }
    case O::kIota: return Iota(g, w);
    case O::kCopy:
      if (!g.shape.IsTuple()) return SameRank(g, w, {});
      [[fallthrough]];
    case O::kOptimizationBarrier: {
      const Value& t = Of(g.operand(0));
      return Value{Local(g, {t.local}, t.local->shape), t.leaves};
    }
    case O::kBroadcast: return Broadcast(g, w);
    case O::kTranspose: return Transpose(g, w);
    case O::kReshape: return Reshape(g, w);
    case O::kBitcast:
      if (op0->dtype == g.shape.dtype) return Reshape(g, w);
      return Fallback(g);
    case O::kDot: {
      const Value &l = Of(g.operand(0)), &r = Of(g.operand(1));
      ShardedArray y = PartitionDot(b_, g, {l.local, l.leaves[0]}, {r.local, r.leaves[0]}, w);
      return Value{y.local, {y.tiling}};
    }
    case O::kReduce: return Reduce(g, w);
    case O::kConvolution: return Convolution(g, w);
    case O::kGather: return Gather(g, w);
    case O::kScatter: return Scatter(g, w);
    case O::kWhile: return While(g);
    case O::kConditional: return Conditional(g, want);
    case O::kCustomCall:
      if (g.custom_call_target == "Sharding" && g.operands.size() == 1 && g.shape.IsArray())
        return Value{Operand(g, 0, w), {w}};
      return Fallback(g);
    case O::kSlice:
      return SameRank(g, w, unsplit([&](int64_t i) { return !(g.slice[i] == SliceDim{0, op0->dims[i], 1}); }));
    case O::kPad:
      return SameRank(g, w, unsplit([&](int64_t i) { return !(g.padding[i] == PaddingDim{}); }));
    case O::kConcatenate: case O::kReverse: case O::kSort:
      return SameRank(g, w, g.dimensions);
    case O::kDynamicSlice:
      return SameRank(g, w, unsplit([&](int64_t i) { return g.slice_sizes[i] != op0->dims[i]; }));
    case O::kDynamicUpdateSlice:
      return SameRank(g, w, unsplit([&](int64_t i) { return g.operand(1)->shape.dims[i] != op0->dims[i]; }));
    case O::kReduceWindow:
      return SameRank(g, w, unsplit([&](int64_t i) { return !(g.window[i] == WindowDimension{}); }));
    case O::kBitcastConvert:
      if (op0->rank() != g.shape.rank()) return Fallback(g);
      return SameRank(g, w, {});
    case O::kSelect: case O::kClamp: case O::kCompare: case O::kConvert: case O::kReducePrecision: case O::kMap:
      return SameRank(g, w, {});
    default:
      if (IsElementwiseUnary(g.opcode) || IsElementwiseBinary(g.opcode)) return SameRank(g, w, {});
      return Fallback(g);
  }
}

Value ComputationPartitioner::Fallback(const Instruction& g) {
  std::vector<Instruction*> ops;
  bool gathered = false;
  for (const Instruction* o : g.operands) {
    const Value& v = Of(o);
    std::vector<Tiling> full;
    for (const Tiling& t : v.leaves) {
      gathered = gathered || IsSplit(t);
      full.push_back(Rep(static_cast<int64_t>(t.dims.size())));
    }
    b_.SetFallback(true);
    ops.push_back(ReshardValue(v, o->shape, full));
    b_.SetFallback(false);
  }
  if (gathered)
    mp_.warnings().push_back(StrCat(g.location, ": ", g.name, ": pjit does not partition ", OpcodeName(g.opcode),
                                    " yet: its operands are gathered in full on every device"));
  std::vector<Tiling> leaves;
  for (const Shape* s : LeafShapes(g.shape)) leaves.push_back(Rep(s->rank()));
  Instruction* y = Local(g, std::move(ops), g.shape);
  y->shape.layout.reset();
  return Value{y, leaves};
}

Value ComputationPartitioner::SameRank(const Instruction& g, const Tiling& want, const std::vector<int64_t>& unsplit) {
  if (g.shape.IsTuple() && g.opcode != O::kSort) return Fallback(g);
  Tiling t = ReplicateDims(want, SplitDims(want, unsplit));
  int64_t rank = static_cast<int64_t>(t.dims.size());
  std::vector<Instruction*> ops;
  for (size_t i = 0; i < g.operands.size(); ++i) {
    const Shape& s = g.operand(i)->shape;
    bool follows = s.IsArray() && s.rank() == rank && rank > 0;
    ops.push_back(Operand(g, i, follows ? t : Rep(s.rank())));
  }
  std::vector<Tiling> leaves(static_cast<size_t>(LeafCount(g.shape)), t);
  Instruction* y = Local(g, std::move(ops), LocalShape(g.shape, leaves));
  Shape local = ShardShape(g.operand(0)->shape, t);
  for (int64_t i = 0; i < rank; ++i) {
    if (t.dims[i] == 1) continue;  // only untouched dims are split
    if (g.opcode == O::kSlice) y->slice[i] = {0, local.dims[i], 1};
    if (g.opcode == O::kDynamicSlice) y->slice_sizes[i] = local.dims[i];
  }
  return Value{y, leaves};
}

Value ComputationPartitioner::Iota(const Instruction& g, const Tiling& want) {
  Shape local = ShardShape(g.shape, want);
  Instruction* y = Local(g, {}, local);
  int64_t d = g.dimensions[0];
  if (want.dims[d] > 1) {
    Instruction* offset = b_.Broadcast(b_.Convert(b_.TileOffset(want, g.shape, d), g.shape.dtype), local, {});
    y = b_.Op(O::kAdd, local, {y, offset});
  }
  return {y, {want}};
}

Value ComputationPartitioner::Broadcast(const Instruction& g, const Tiling& want) {
  Instruction* x = Operand(g, 0, MapTiling(want, g.dimensions));
  return {Local(g, {x}, ShardShape(g.shape, want)), {want}};
}

Value ComputationPartitioner::Transpose(const Instruction& g, const Tiling& want) {
  std::vector<int64_t> of(g.dimensions.size());  // operand dim dimensions[i] is result dim i
  for (size_t i = 0; i < of.size(); ++i) of[g.dimensions[i]] = static_cast<int64_t>(i);
  Instruction* x = Operand(g, 0, MapTiling(want, of));
  return {Local(g, {x}, ShardShape(g.shape, want)), {want}};
}

// A reshape keeps a split when it falls on the most major dim of a group of dims that the
// reshape maps onto each other, and divides that dim on both sides (or the group is one dim
// kept as it is); other splits are dropped before the reshape, and callers reshard after.
Value ComputationPartitioner::Reshape(const Instruction& g, const Tiling& want) {
  const std::vector<int64_t>& a = g.operand(0)->shape.dims;
  const std::vector<int64_t>& r = g.shape.dims;
  size_t na = a.size(), nr = r.size();
  std::vector<int64_t> kept(nr, -1), operand_of(na, -1);  // result dims whose split is kept
  bool empty = std::count(a.begin(), a.end(), 0) > 0;
  size_t i = 0, j = 0;
  while (!empty && (i < na || j < nr)) {
    size_t gi = i, gj = j;
    int64_t pa = 1, pr = 1;
    if (i < na) pa *= a[i++];
    if (j < nr) pr *= r[j++];
    while (pa != pr && (i < na || j < nr)) {
      if ((pa < pr && i < na) || j == nr) pa *= a[i++];
      else pr *= r[j++];
    }
    size_t ai = gi, rj = gj;
    while (ai < i && a[ai] == 1) ++ai;
    while (rj < j && r[rj] == 1) ++rj;
    if (ai == i || rj == j) continue;
    int64_t k = want.dims[rj];
    bool kept_as_is = i - gi == 1 && j - gj == 1;
    if (kept_as_is || (r[rj] % k == 0 && a[ai] % k == 0)) {
      kept[rj] = static_cast<int64_t>(rj);
      operand_of[ai] = static_cast<int64_t>(rj);
    }
  }
  Tiling t = MapTiling(want, kept);
  Instruction* x = Operand(g, 0, MapTiling(want, operand_of));
  return Value{Local(g, {x}, ShardShape(g.shape, t)), {t}};
}

// The largest (or lowest) value of a dtype: infinity for floating point, false/true for pred.
double Extreme(DType t, bool largest) {
  return VisitDType(t, [&]<typename T>() -> double {
    if constexpr (std::is_same_v<T, bool>) return largest ? 1 : 0;
    else if constexpr (std::is_integral_v<T>)
      return static_cast<double>(largest ? std::numeric_limits<T>::max() : std::numeric_limits<T>::lowest());
    else return largest ? INFINITY : -INFINITY;
  });
}

// True when `init` is a constant that `reducer` (one binary op on its two parameters) leaves
// unchanged, so partial reductions may each start from it and padding may be filled with it.
bool IsIdentityOf(const Instruction& init, const Computation& reducer) {
  std::optional<Opcode> op = SimpleReducer(reducer);
  if (init.opcode != O::kConstant || !op) return false;
  double v = init.literal.GetAsDouble(0);
  switch (*op) {
    case O::kAdd: case O::kOr: case O::kXor: return v == 0;
    case O::kMultiply: return v == 1;
    case O::kAnd: return init.shape.dtype == DType::kPred ? v == 1 : init.literal.GetAsInt64(0) == -1;
    case O::kMaximum: return v == Extreme(init.shape.dtype, false);
    case O::kMinimum: return v == Extreme(init.shape.dtype, true);
    default: return false;
  }
}

// Reduces locally; split reduced dims then leave partial results, combined over the devices
// that hold the other parts. Variadic reduces (argmax), and reduces whose init value is not
// the reducer's identity, gather those dims instead.
Value ComputationPartitioner::Reduce(const Instruction& g, const Tiling& want) {
  size_t inputs = g.operands.size() / 2;
  const Value& x0 = Of(g.operand(0));
  const Tiling& o = x0.leaves[0];
  std::vector<int64_t> split = SplitDims(o, g.dimensions);
  bool partial = inputs == 1 && IsIdentityOf(*g.operand(1), *g.called[0]);
  if (!partial) inputs = g.operands.size() / 2;
  Tiling t = partial ? o : ReplicateDims(o, split);
  std::vector<Instruction*> ops;
  for (size_t k = 0; k < inputs; ++k) ops.push_back(Operand(g, k, t));
  for (size_t k = inputs; k < 2 * inputs; ++k) ops.push_back(Operand(g, k, Rep(0)));
  if (partial) ops[0] = b_.MaskPadding(ops[0], g.operand(0)->shape, t, split, ops[1]);
  Tiling result = RemoveDims(ReplicateDims(o, split), g.dimensions);
  std::vector<Tiling> leaves(inputs, result);
  Instruction* y = Local(g, std::move(ops), LocalShape(g.shape, leaves));
  if (!partial || split.empty()) return {y, leaves};
  auto [combined, tiling] = CombinePartials(b_, y, g.shape, GroupsVaryingOn(o, split, true), y->called[0], result, want);
  return {combined, {tiling}};
}

// Batch and output-feature splits of the result carry over: the input is split on its batch
// dim, the kernel on its output features, and each device convolves its part. A spatial split
// carries over where the window keeps the size (stride 1, no dilation, padding adding up to
// the window less one) and the halo fits a neighbour's shard: each device gets the rows its
// window reaches past its edges from its neighbours by collective-permute (the first and last
// get zeros, which are the padding) and convolves without padding on that dim. Other spatial
// and input-feature splits are dropped (partial sums are not written yet).
Value ComputationPartitioner::Convolution(const Instruction& g, const Tiling& want) {
  const ConvolutionDimensionNumbers& d = g.conv_dims;
  const Shape& input = g.operand(0)->shape;
  bool features = g.feature_group_count == 1 && g.batch_group_count == 1;
  std::vector<int64_t> out(want.dims.size(), -1), in(input.dims.size(), -1),
      kernel(g.operand(1)->shape.dims.size(), -1);  // the result dims whose split each dim takes
  if (g.batch_group_count == 1) out[d.output_batch] = in[d.input_batch] = d.output_batch;
  if (features) out[d.output_feature] = kernel[d.kernel_output_feature] = d.output_feature;
  std::vector<size_t> halo;  // spatial dims exchanged with neighbours
  for (size_t i = 0; i < d.input_spatial.size(); ++i) {
    const WindowDimension& w = g.window[i];
    const int64_t o = d.output_spatial[i], k = want.dims[o];
    if (k == 1 || w.stride != 1 || w.window_dilation != 1 || w.base_dilation != 1 || w.window_reversal ||
        w.padding_low < 0 || w.padding_high < 0 || w.padding_low + w.padding_high != w.size - 1)
      continue;
    const int64_t shard = (input.dims[d.input_spatial[i]] + k - 1) / k;
    if (w.padding_low > shard || w.padding_high > shard) continue;
    out[o] = in[d.input_spatial[i]] = o;
    halo.push_back(i);
  }
  Tiling result = MapTiling(want, out), input_tiling = MapTiling(want, in);
  Instruction* x = Operand(g, 0, input_tiling);
  Instruction* k = Operand(g, 1, MapTiling(want, kernel));
  for (size_t i : halo) {
    const int64_t dim = d.input_spatial[i], lo = g.window[i].padding_low, hi = g.window[i].padding_high;
    const int64_t shard = x->shape.dims[dim];
    x = b_.MaskPadding(x, input, input_tiling, {dim}, b_.Scalar(input.dtype, 0));  // padded rows are past the edge
    std::vector<std::pair<int64_t, int64_t>> forward, backward;  // to the next device, to the previous
    for (const std::vector<int64_t>& group : GroupsVaryingOn(input_tiling, {dim}, true))
      for (size_t r = 0; r + 1 < group.size(); ++r) {
        forward.push_back({group[r], group[r + 1]});
        backward.push_back({group[r + 1], group[r]});
      }
    std::sort(forward.begin(), forward.end());
    std::sort(backward.begin(), backward.end());
    std::vector<Instruction*> parts;
    if (lo) parts.push_back(b_.CollectivePermute(b_.SliceRange(x, dim, shard - lo, shard), forward));
    parts.push_back(x);
    if (hi) parts.push_back(b_.CollectivePermute(b_.SliceRange(x, dim, 0, hi), backward));
    x = b_.Concatenate(parts, dim);
  }
  Instruction* y = Local(g, {x, k}, ShardShape(g.shape, result));
  for (size_t i : halo) y->window[i].padding_low = y->window[i].padding_high = 0;
  return {y, {result}};
}

// The output keeps the splits of its batch dims (the indices are split the same way) and of
// offset dims that slice an operand dim whole (the operand is split there): each device
// gathers its part locally. An operand split on the dim the indices pick rows from is kept
// too (MaskedGather). Other splits are dropped, and callers reshard after.
Value ComputationPartitioner::Gather(const Instruction& g, const Tiling& want) {
  if (g.shape.IsTuple() || !g.gather_dims.operand_batching_dims.empty()) return Fallback(g);
  GatherMapping m = GatherDimsOf(g);
  std::vector<int64_t> out(want.dims.size(), -1), operand(g.operand(0)->shape.dims.size(), -1),
      indices(g.operand(1)->shape.dims.size(), -1);  // the result dims whose split each dim takes
  for (size_t k = 0; k < m.operand_dims.size(); ++k) out[m.operand_out[k]] = operand[m.operand_dims[k]] = m.operand_out[k];
  for (size_t k = 0; k < m.index_dims.size(); ++k) out[m.index_out[k]] = indices[m.index_dims[k]] = m.index_out[k];
  Tiling result = MapTiling(want, out), operand_tiling = MapTiling(want, operand);
  if (std::optional<Value> masked = MaskedGather(g, m, result, operand_tiling)) return *masked;
  Instruction* x = Operand(g, 0, operand_tiling);
  Instruction* i = Operand(g, 1, MapTiling(want, indices));
  Instruction* y = Local(g, {x, i}, ShardShape(g.shape, result));
  Shape local = ShardShape(g.operand(0)->shape, operand_tiling);
  for (int64_t d : m.operand_dims) y->slice_sizes[d] = local.dims[d];
  return {y, {result}};
}

// A table split on the dim its rows are picked from (an embedding split by vocabulary): each
// device gathers with the rows it holds — the index clamped as gather clamps it, less the
// device's first row — zeroes what it does not hold, and the group that splits the rows adds
// up (exactly one member holds each row). Taken when the operand is split on one collapsed,
// indexed dim, signed indices, and the devices of each such group agree on their part of the
// result.
std::optional<Value> ComputationPartitioner::MaskedGather(const Instruction& g, const GatherMapping& m, const Tiling& result,
                                                          const Tiling& passthrough) {
  const GatherDimensionNumbers& d = g.gather_dims;
  const Shape& table = g.operand(0)->shape;
  const Shape& ids = g.operand(1)->shape;
  const Tiling& o = Of(g.operand(0)).leaves[0];
  if (ids.dtype != DType::kS32 && ids.dtype != DType::kS64) return std::nullopt;
  int64_t v = -1, p = 0;
  for (size_t q = 0; q < d.start_index_map.size(); ++q) {
    int64_t dim = d.start_index_map[q];
    bool collapsed = std::find(d.collapsed_slice_dims.begin(), d.collapsed_slice_dims.end(), dim) != d.collapsed_slice_dims.end();
    if (o.dims[dim] == 1 || !collapsed || g.slice_sizes[dim] != 1) continue;
    if (v >= 0) return std::nullopt;
    v = dim;
    p = static_cast<int64_t>(q);
  }
  if (v < 0) return std::nullopt;
  std::vector<int64_t> others;
  for (int64_t dim = 0; dim < table.rank(); ++dim)
    if (dim != v) others.push_back(dim);
  std::optional<Tiling> split = MergeTilings(passthrough, ReplicateDims(o, others));
  if (!split || split->dims[v] != o.dims[v]) return std::nullopt;
  std::vector<std::vector<int64_t>> groups = GroupsVaryingOn(*split, {v}, true);
  std::vector<TileCoords> parts = DeviceTileCoords(result);
  for (const std::vector<int64_t>& group : groups)
    for (int64_t device : group)
      if (parts[device].tile != parts[group[0]].tile) return std::nullopt;

  std::vector<int64_t> of_result(ids.dims.size(), -1);
  for (size_t k = 0; k < m.index_dims.size(); ++k) of_result[m.index_dims[k]] = m.index_out[k];
  Instruction* x = Operand(g, 0, *split);
  Instruction* idx = Operand(g, 1, MapTiling(result, of_result));
  const Shape local_ids = Shape::Array(ids.dtype, idx->shape.dims);
  const bool vector_dim = d.index_vector_dim < ids.rank();
  // The row indices (batch dims only), clamped to the table, relative to this device's rows.
  Instruction* rows = idx;
  Shape batch = local_ids;
  if (vector_dim) {
    batch.dims.erase(batch.dims.begin() + d.index_vector_dim);
    Shape one = local_ids;
    one.dims[d.index_vector_dim] = 1;
    rows = b_.Op(O::kSlice, one, {idx});
    for (int64_t i = 0; i < local_ids.rank(); ++i)
      rows->slice.push_back(i == d.index_vector_dim ? SliceDim{p, p + 1, 1} : SliceDim{0, local_ids.dims[i], 1});
    rows = b_.Reshape(rows, batch.dims);
  }
  auto splat = [&](double value) { return b_.Broadcast(b_.Scalar(ids.dtype, value), batch, {}); };
  auto compare = [&](Instruction* a, Instruction* c, ComparisonDirection dir) {
    Instruction* r = b_.Op(O::kCompare, Shape::Array(DType::kPred, batch.dims), {a, c});
    r->comparison_direction = dir;
    return r;
  };
  rows = b_.Op(O::kClamp, batch, {splat(0), rows, splat(static_cast<double>(table.dims[v] - 1))});
  Instruction* first = b_.Broadcast(b_.Convert(b_.TileOffset(*split, table, v), ids.dtype), batch, {});
  rows = b_.Op(O::kSubtract, batch, {rows, first});
  const int64_t held = ShardShape(table, *split).dims[v];
  Instruction* mine = b_.Op(O::kAnd, Shape::Array(DType::kPred, batch.dims),
                            {compare(rows, splat(0), ComparisonDirection::kGe), compare(rows, splat(static_cast<double>(held)), ComparisonDirection::kLt)});
  Instruction* local_idx = rows;
  if (vector_dim) {
    std::vector<int64_t> batch_dims;
    for (int64_t i = 0; i < local_ids.rank(); ++i)
      if (i != d.index_vector_dim) batch_dims.push_back(i);
    Shape s32 = Shape::Array(DType::kS32, local_ids.dims);
    Instruction* component = b_.Op(O::kIota, s32, {});
    component->dimensions = {d.index_vector_dim};
    Instruction* is_row = b_.Op(O::kCompare, Shape::Array(DType::kPred, local_ids.dims),
                                {component, b_.Broadcast(b_.Scalar(DType::kS32, static_cast<double>(p)), s32, {})});
    is_row->comparison_direction = ComparisonDirection::kEq;
    local_idx = b_.Op(O::kSelect, local_ids, {is_row, b_.Broadcast(rows, local_ids, batch_dims), idx});
  }
  Instruction* y = Local(g, {x, local_idx}, ShardShape(g.shape, result));
  Shape local_table = ShardShape(table, *split);
  for (int64_t dim : m.operand_dims) y->slice_sizes[dim] = local_table.dims[dim];
  Instruction* keep = b_.Broadcast(mine, Shape::Array(DType::kPred, y->shape.dims), m.index_out);
  y = b_.Op(O::kSelect, y->shape, {keep, y, b_.Broadcast(b_.Scalar(y->shape.dtype, 0), y->shape, {})});
  y = b_.AllReduce(y, b_.module().Reducer(O::kAdd, y->shape.dtype), groups);
  return Value{y, {result}};
}

// Splits of operand dims that the updates cover whole (not indexed) carry over: the updates
// are split the same way and each device scatters into its part; other splits are dropped.
Value ComputationPartitioner::Scatter(const Instruction& g, const Tiling& want) {
  if (g.shape.IsTuple() || g.operands.size() != 3 || !g.scatter_dims.input_batching_dims.empty()) return Fallback(g);
  ScatterMapping m = ScatterDimsOf(g);
  std::vector<int64_t> kept(want.dims.size(), -1), updates(g.operand(2)->shape.dims.size(), -1);
  for (size_t k = 0; k < m.operand_dims.size(); ++k) kept[m.operand_dims[k]] = updates[m.update_dims[k]] = m.operand_dims[k];
  Tiling result = MapTiling(want, kept);
  Instruction* x = Operand(g, 0, result);
  Instruction* i = Operand(g, 1, Rep(g.operand(1)->shape.rank()));
  Instruction* u = Operand(g, 2, MapTiling(want, updates));
  return {Local(g, {x, i, u}, ShardShape(g.shape, result)), {result}};
}

StatusOr<Value> ComputationPartitioner::While(const Instruction& g) {
  bool manual = false;
  std::vector<bool> mixed;  // manual leaves of the state stay per-device through the loop
  const Computation &cond = *g.called[0], &body = *g.called[1];
  PJIT_ASSIGN_OR_RETURN(std::vector<Tiling> state, mp_.LeafTilings(*body.parameters[0], &manual, &mixed));
  if (manual) return Unimplemented(g.location, ": ", g.name, ": a manual while loop state is not supported yet");
  const Value& operand = Of(g.operand(0));
  if (operand.manual_leaves != mixed)
    return Unimplemented(g.location, ": ", g.name, ": the loop's state and its initial value have different manual leaves");
  Instruction* init = ReshardValue(operand, g.operand(0)->shape, state);
  std::vector<Tiling> pred = {Rep(0)};
  PJIT_ASSIGN_OR_RETURN(Computation* c, mp_.Partition(cond, &state, &pred));
  PJIT_ASSIGN_OR_RETURN(Computation* bd, mp_.Partition(body, &state, &state));
  b_.SetOrigin(&g);
  Instruction w = g;
  w.operands = {init};
  w.called = {c, bd};
  w.shape = LocalShape(g.shape, state, &mixed);
  w.sharding.reset();
  w.sharding_provenance = {};
  return Value{b_.Add(std::move(w)), state, false, mixed};
}

StatusOr<Value> ComputationPartitioner::Conditional(const Instruction& g, const std::vector<Tiling>& want) {
  std::vector<Instruction*> ops = {Operand(g, 0, Rep(g.operand(0)->shape.rank()))};
  std::vector<Computation*> branches;
  for (size_t i = 0; i < g.called.size(); ++i) {
    bool manual = false;
    const Computation& branch = *g.called[i];
    PJIT_ASSIGN_OR_RETURN(std::vector<Tiling> param, mp_.LeafTilings(*branch.parameters[0], &manual));
    if (manual) return Unimplemented(g.location, ": ", g.name, ": a manual conditional operand is not supported yet");
    ops.push_back(ReshardValue(Of(g.operand(i + 1)), g.operand(i + 1)->shape, param));
    PJIT_ASSIGN_OR_RETURN(Computation* c, mp_.Partition(branch, &param, &want));
    branches.push_back(c);
  }
  b_.SetOrigin(&g);
  Instruction y = g;
  y.operands = std::move(ops);
  y.called = std::move(branches);
  y.shape = LocalShape(g.shape, want);
  y.sharding.reset();
  y.sharding_provenance = {};
  return Value{b_.Add(std::move(y)), want};
}

StatusOr<Value> ComputationPartitioner::ManualBoundary(const Instruction& g, const std::vector<Tiling>& want) {
  const Instruction& operand = *g.operand(0);
  const Value& v = Of(&operand);
  static const std::vector<int64_t> kNone;
  const std::vector<int64_t>* mine = mp_.ManualGroups(g);
  const std::vector<int64_t>& groups = mine ? *mine : kNone;
  if (g.custom_call_target == "SPMDFullToShardShape") {
    bool manual = false;
    PJIT_ASSIGN_OR_RETURN(std::vector<Tiling> to, mp_.LeafTilings(operand, &manual));
    if (v.manual || manual) return Unimplemented(g.location, ": ", g.name, ": operand is manual already");
    Instruction* x = Reshard(b_, v.local, operand.shape, v.leaves[0], to[0]);
    if (PartiallyManual(g.sharding)) {  // each group's block of the operand, split within the group as `want` says
      if (x->shape.dims != ShardShape(g.shape, want[0]).dims || !ManualBlocksAgree(to[0], want[0], groups, kNone))
        return InvalidArgument(g.location, ": ", g.name, ": the operand's sharding ",
                               operand.sharding ? operand.sharding->ToString() : std::string("{replicated}"), " does not cut ",
                               operand.shape.ToString(false), " into the manual groups' ", g.shape.ToString(false), " blocks that ",
                               g.sharding->ToString(), " splits");
      return Value{b_.Op(O::kCopy, x->shape, {x}), want, false};
    }
    if (x->shape.dims != g.shape.dims)
      return InvalidArgument(g.location, ": ", g.name, ": the shard shape is ", x->shape.ToString(false), " but the custom-call says ",
                             g.shape.ToString(false), " (manual regions need evenly divided dims)");
    return Value{b_.Op(O::kCopy, x->shape, {x}), want, true};
  }
  if (!v.manual && PartiallyManual(operand.sharding)) {
    bool manual = false;
    PJIT_ASSIGN_OR_RETURN(std::vector<Tiling> from, mp_.LeafTilings(operand, &manual));
    Instruction* x = Reshard(b_, v.local, operand.shape, v.leaves[0], from[0]);
    Shape local = ShardShape(g.shape, want[0]);
    const std::vector<int64_t>* inner = mp_.ManualGroups(operand);
    if (local.dims != x->shape.dims || !ManualBlocksAgree(want[0], from[0], inner ? *inner : kNone, groups))
      return InvalidArgument(g.location, ": ", g.name, ": sharding ", g.sharding ? g.sharding->ToString() : "{replicated}",
                             " does not join the manual groups' ", operand.shape.ToString(false), " blocks of ",
                             operand.sharding->ToString(), " into ", g.shape.ToString(false));
    return Value{b_.Op(O::kCopy, local, {x}), want, false};
  }
  if (!v.manual) return Unimplemented(g.location, ": ", g.name, ": operand is not manual");
  Shape local = ShardShape(g.shape, want[0]);
  if (local.dims != v.local->shape.dims)
    return InvalidArgument(g.location, ": ", g.name, ": the shard shape of ", g.shape.ToString(false), " is ", local.ToString(false),
                           " but the manual region gives ", v.local->shape.ToString(false));
  return Value{b_.Op(O::kCopy, local, {v.local}), want, false};
}

}  // namespace

StatusOr<PartitionResult> PartitionModule(const Module& global, const Mesh& mesh) {
  ModulePartitioner mp(mesh);
  bool manual = false;
  PJIT_ASSIGN_OR_RETURN(std::vector<Tiling> results, mp.LeafTilings(*global.entry->root, &manual));
  PJIT_ASSIGN_OR_RETURN(Computation* entry, mp.Partition(*global.entry, nullptr, manual ? nullptr : &results));
  if (!mp.state().manual_violation.empty()) return Unimplemented(mp.state().manual_violation);
  PartitionResult r;
  r.module = mp.Assemble(global, entry);
  r.warnings = std::move(mp.warnings());
  Status verified = VerifyModule(*r.module);
  if (!verified.ok()) return Internal("the partitioned program does not verify: ", verified.message());
  return r;
}

}  // namespace pjit
