#include "compile/sharding_rules.h"

#include <algorithm>
#include <numeric>

#include "compile/sharding_util.h"

namespace pjit {
namespace {

using O = Opcode;

bool PassesThrough(Opcode op) {
  switch (op) {
    case O::kConvert: case O::kCopy: case O::kReducePrecision: case O::kCompare: case O::kSelect:
    case O::kClamp: case O::kReverse: case O::kPad: case O::kOptimizationBarrier: case O::kMap:
      return true;
    default:
      return IsElementwiseUnary(op) || IsElementwiseBinary(op);
  }
}

std::vector<int64_t> Range(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

std::optional<RuleResult> Result(const Tiling& t, const Mesh& mesh, std::string rule) {
  return RuleResult{FromTiling(t, mesh), std::move(rule)};
}

// Dims whose size differs between two same-rank shapes (sliced or padded away).
std::vector<int64_t> ChangedDims(const Shape& a, const Shape& b) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < a.rank(); ++i)
    if (a.dims[i] != b.dims[i]) out.push_back(i);
  return out;
}

// dot: the operand's dims in the order [batch, free, contracting] (lhs) or [batch,
// contracting, free] (rhs), with the positions of its free dims in the result.
struct DotSide {
  std::vector<int64_t> batch, contracting, free;
  std::vector<int64_t> free_positions;
};

DotSide SideOf(const Instruction& dot, size_t operand) {
  const DotDimensionNumbers& d = dot.dot_dims;
  DotSide s;
  s.batch = operand == 0 ? d.lhs_batch : d.rhs_batch;
  s.contracting = operand == 0 ? d.lhs_contracting : d.rhs_contracting;
  const Shape& shape = dot.operand(operand)->shape;
  for (int64_t i = 0; i < shape.rank(); ++i)
    if (std::find(s.batch.begin(), s.batch.end(), i) == s.batch.end() &&
        std::find(s.contracting.begin(), s.contracting.end(), i) == s.contracting.end())
      s.free.push_back(i);
  int64_t lhs_free = dot.operand(0)->shape.rank() - static_cast<int64_t>(d.lhs_batch.size() + d.lhs_contracting.size());
  int64_t first = static_cast<int64_t>(s.batch.size()) + (operand == 0 ? 0 : lhs_free);
  for (size_t i = 0; i < s.free.size(); ++i) s.free_positions.push_back(first + static_cast<int64_t>(i));
  return s;
}

// Reshape as groups of dims with equal element counts: each group maps a run of operand
// dims onto a run of result dims. Sharding moves through a group when only its most major
// dim is split and the split divides the major dim on the other side.
struct ReshapeGroup {
  std::vector<int64_t> from, to;
};

std::optional<std::vector<ReshapeGroup>> ReshapeGroups(const Shape& from, const Shape& to) {
  std::vector<ReshapeGroup> groups;
  size_t i = 0, j = 0;
  while (i < from.dims.size() || j < to.dims.size()) {
    ReshapeGroup g;
    int64_t a = 1, b = 1;
    do {
      if (a <= b && i < from.dims.size()) a *= from.dims[i], g.from.push_back(static_cast<int64_t>(i++));
      else if (j < to.dims.size()) b *= to.dims[j], g.to.push_back(static_cast<int64_t>(j++));
      else return std::nullopt;
    } while (a != b || (g.from.empty() || g.to.empty()));
    // Trailing size-1 dims join the group on their side.
    while (i < from.dims.size() && from.dims[i] == 1 && (j >= to.dims.size() || to.dims[j] != 1)) g.from.push_back(static_cast<int64_t>(i++));
    while (j < to.dims.size() && to.dims[j] == 1 && (i >= from.dims.size() || from.dims[i] != 1)) g.to.push_back(static_cast<int64_t>(j++));
    groups.push_back(std::move(g));
  }
  return groups;
}

std::optional<Tiling> ReshapeTiling(const Tiling& in, const Shape& from, const Shape& to) {
  std::optional<std::vector<ReshapeGroup>> groups = ReshapeGroups(from, to);
  if (!groups) return std::nullopt;
  // Within a group only the most major split survives; minor splits become replication.
  std::vector<int64_t> minor_splits;
  for (const ReshapeGroup& g : *groups) {
    bool seen = false;
    for (int64_t d : g.from)
      if (in.dims[d] > 1) {
        if (seen) minor_splits.push_back(d);
        seen = true;
      }
  }
  Tiling t = ReplicateDims(in, minor_splits);
  Tiling out;
  out.dims.assign(to.dims.size(), 1);
  out.replication = t.replication;
  out.devices = t.devices;
  for (const ReshapeGroup& g : *groups) {
    // The split dims of the group, major to minor, must be its first non-unit dims.
    int64_t split_from = -1;
    for (int64_t d : g.from) {
      if (t.dims[d] == 1) continue;
      if (split_from >= 0) return std::nullopt;
      split_from = d;
    }
    if (split_from < 0) continue;
    for (int64_t d : g.from) {
      if (d == split_from) break;
      if (from.dims[d] != 1) return std::nullopt;  // a larger dim is more major
    }
    int64_t major_to = -1;
    for (int64_t d : g.to)
      if (to.dims[d] != 1) {
        major_to = d;
        break;
      }
    if (major_to < 0 || to.dims[major_to] % t.dims[split_from] != 0) return std::nullopt;
    out.dims[major_to] = t.dims[split_from];
  }
  if (out.num_tiles() != t.num_tiles()) return std::nullopt;
  return out;
}

// Moves `in` dims (in that order) to `out` positions of a rank-`rank` tiling; every other dim
// of `t` stops splitting (its tiles join the replication).
Tiling MapDims(const Tiling& t, const std::vector<int64_t>& in, const std::vector<int64_t>& out, int64_t rank) {
  std::vector<int64_t> order = in;
  std::vector<int64_t> rest;
  for (int64_t i = 0; i < static_cast<int64_t>(t.dims.size()); ++i)
    if (std::find(in.begin(), in.end(), i) == in.end()) order.push_back(i), rest.push_back(static_cast<int64_t>(order.size()) - 1);
  Tiling r = RemoveDims(ReplicateDims(TransposeTiling(t, order), rest), rest);
  return InsertDims(r, out, rank);
}

// convolution: input batch and spatial dims ↔ output batch and spatial dims; kernel output
// feature ↔ output feature; input/kernel input feature is contracted. Grouped convolutions
// are left to the partitioner.
struct ConvMapping {
  std::vector<int64_t> operand_dims, output_dims;
};

ConvMapping ConvDimsOf(const Instruction& conv, size_t operand) {
  const ConvolutionDimensionNumbers& d = conv.conv_dims;
  ConvMapping m;
  if (operand == 0) {
    m.operand_dims = {d.input_batch};
    m.output_dims = {d.output_batch};
    m.operand_dims.insert(m.operand_dims.end(), d.input_spatial.begin(), d.input_spatial.end());
    m.output_dims.insert(m.output_dims.end(), d.output_spatial.begin(), d.output_spatial.end());
  } else {
    m.operand_dims = {d.kernel_output_feature};
    m.output_dims = {d.output_feature};
  }
  return m;
}

}  // namespace

GatherMapping GatherDimsOf(const Instruction& g) {
  const GatherDimensionNumbers& d = g.gather_dims;
  const Shape& operand = g.operand(0)->shape;
  const Shape& indices = g.operand(1)->shape;
  GatherMapping m;
  std::vector<int64_t> batch_out;
  for (int64_t i = 0; i < g.shape.rank(); ++i)
    if (std::find(d.offset_dims.begin(), d.offset_dims.end(), i) == d.offset_dims.end()) batch_out.push_back(i);
  size_t b = 0;
  for (int64_t i = 0; i < indices.rank(); ++i)
    if (i != d.index_vector_dim) m.index_dims.push_back(i), m.index_out.push_back(batch_out[b++]);
  size_t offset = 0;
  for (int64_t i = 0; i < operand.rank(); ++i) {
    bool removed = std::find(d.collapsed_slice_dims.begin(), d.collapsed_slice_dims.end(), i) != d.collapsed_slice_dims.end() ||
                   std::find(d.operand_batching_dims.begin(), d.operand_batching_dims.end(), i) != d.operand_batching_dims.end();
    if (removed) continue;
    bool indexed = std::find(d.start_index_map.begin(), d.start_index_map.end(), i) != d.start_index_map.end();
    if (!indexed && g.slice_sizes[i] == operand.dims[i]) m.operand_dims.push_back(i), m.operand_out.push_back(d.offset_dims[offset]);
    ++offset;
  }
  return m;
}

ScatterMapping ScatterDimsOf(const Instruction& g) {
  const ScatterDimensionNumbers& d = g.scatter_dims;
  const Shape& operand = g.operand(0)->shape;
  const Shape& updates = g.operand(g.operands.size() - 1)->shape;
  ScatterMapping m;
  size_t window = 0;
  for (int64_t i = 0; i < operand.rank(); ++i) {
    auto in = [&](const std::vector<int64_t>& v) { return std::find(v.begin(), v.end(), i) != v.end(); };
    if (in(d.inserted_window_dims) || in(d.input_batching_dims)) continue;
    int64_t u = d.update_window_dims[window++];
    if (!in(d.scatter_dims_to_operand_dims) && updates.dims[u] == operand.dims[i]) m.operand_dims.push_back(i), m.update_dims.push_back(u);
  }
  return m;
}

int RuleLevel(Opcode op) {
  if (op == O::kBroadcast) return 2;
  if (op == O::kDot || op == O::kReduce || op == O::kConcatenate || op == O::kDynamicSlice ||
      op == O::kDynamicUpdateSlice || op == O::kSlice || op == O::kSort || op == O::kConvolution ||
      op == O::kGather || op == O::kScatter || op == O::kReduceWindow || op == O::kSelectAndScatter)
    return 1;
  return 0;
}

bool IsManualBoundary(const Instruction& in) {
  return in.opcode == O::kCustomCall && (in.custom_call_target == "SPMDShardToFullShape" || in.custom_call_target == "SPMDFullToShardShape");
}

std::optional<RuleResult> ForwardRule(const Instruction& in, size_t operand, const HloSharding& s, const Mesh& mesh) {
  const Shape& from = in.operand(operand)->shape;
  if (s.kind == HloSharding::Kind::kManual) {
    if (IsManualBoundary(in)) return std::nullopt;
    return RuleResult{s, "manual: inside a manually partitioned region"};
  }
  if (in.opcode == O::kGetTupleElement) {
    HloSharding e = ElementSharding(s, from, in.tuple_index);
    if (e.kind == HloSharding::Kind::kUnknown) return std::nullopt;
    return RuleResult{e, "get-tuple-element: element " + std::to_string(in.tuple_index)};
  }
  bool variadic_reduce = in.opcode == O::kReduce && in.shape.IsTuple();
  if (!from.IsArray() || !(in.shape.IsArray() || variadic_reduce)) return std::nullopt;
  if (in.opcode == O::kMap && from.dims != in.shape.dims) return std::nullopt;
  std::optional<Tiling> t = ToTiling(s, from.rank(), mesh);
  if (!t) return std::nullopt;
  if (PassesThrough(in.opcode) || (in.opcode == O::kBitcastConvert && from.rank() == in.shape.rank())) {
    if (from.rank() != in.shape.rank()) return std::nullopt;  // scalar operands of select/clamp
    return Result(*t, mesh, std::string(OpcodeName(in.opcode)) + ": same sharding as the operand");
  }
  switch (in.opcode) {
    case O::kCustomCall:
      if (in.custom_call_target != "Sharding" || from.dims != in.shape.dims) return std::nullopt;
      return Result(*t, mesh, "custom-call Sharding: pass through");
    case O::kTranspose:
      return Result(TransposeTiling(*t, in.dimensions), mesh, "transpose: permuted tiles");
    case O::kBroadcast:
      return Result(InsertDims(*t, in.dimensions, in.shape.rank()), mesh, "broadcast: operand dims keep their tiles, new dims unsplit");
    case O::kReshape: case O::kBitcast: {
      std::optional<Tiling> r = ReshapeTiling(*t, from, in.shape);
      if (!r) return std::nullopt;
      return Result(*r, mesh, "reshape: split dims move with their major dim");
    }
    case O::kReduce: {
      if (operand >= in.operands.size() / 2) return std::nullopt;  // init values
      Tiling r = RemoveDims(ReplicateDims(*t, in.dimensions), in.dimensions);
      HloSharding h = FromTiling(r, mesh);
      if (in.shape.IsTuple()) h = HloSharding::Tuple(std::vector<HloSharding>(in.shape.tuple_shapes.size(), h));
      return RuleResult{h, "reduce: reduced dims become replication"};
    }
    case O::kDot: {
      DotSide side = SideOf(in, operand);
      std::vector<int64_t> order = side.batch;
      order.insert(order.end(), side.free.begin(), side.free.end());
      order.insert(order.end(), side.contracting.begin(), side.contracting.end());
      Tiling r = TransposeTiling(*t, order);
      int64_t kept = static_cast<int64_t>(side.batch.size() + side.free.size());
      std::vector<int64_t> contracting;
      for (int64_t i = kept; i < static_cast<int64_t>(order.size()); ++i) contracting.push_back(i);
      r = RemoveDims(ReplicateDims(r, contracting), contracting);
      std::vector<int64_t> positions = Range(static_cast<int64_t>(side.batch.size()));
      positions.insert(positions.end(), side.free_positions.begin(), side.free_positions.end());
      return Result(InsertDims(r, positions, in.shape.rank()), mesh,
                    std::string("dot: ") + (operand == 0 ? "lhs" : "rhs") + " batch and non-contracting dims keep their tiles, contracting dims become replication");
    }
    case O::kConcatenate: {
      int64_t d = in.dimensions[0];
      return Result(ReplicateDims(*t, {d}), mesh, "concatenate: the concatenated dim is unsplit");
    }
    case O::kSlice: case O::kDynamicSlice: {
      if (in.opcode == O::kDynamicSlice && operand != 0) return std::nullopt;
      return Result(ReplicateDims(*t, ChangedDims(from, in.shape)), mesh, std::string(OpcodeName(in.opcode)) + ": sliced dims unsplit");
    }
    case O::kDynamicUpdateSlice:
      if (operand != 0) return std::nullopt;
      return Result(*t, mesh, "dynamic-update-slice: same sharding as the operand");
    case O::kSort:
      return Result(ReplicateDims(*t, in.dimensions), mesh, "sort: the sorted dim is unsplit");
    case O::kConvolution: {
      if (in.feature_group_count != 1 || in.batch_group_count != 1) return std::nullopt;
      ConvMapping m = ConvDimsOf(in, operand);
      return Result(MapDims(*t, m.operand_dims, m.output_dims, in.shape.rank()), mesh,
                    operand == 0 ? "convolution: input batch and spatial dims keep their tiles, features are contracted"
                                 : "convolution: kernel output features split the output features");
    }
    case O::kGather: {
      GatherMapping m = GatherDimsOf(in);
      if (operand == 0)
        return Result(MapDims(*t, m.operand_dims, m.operand_out, in.shape.rank()), mesh, "gather: operand dims sliced whole pass through");
      return Result(MapDims(*t, m.index_dims, m.index_out, in.shape.rank()), mesh, "gather: index batch dims pass through");
    }
    case O::kScatter:
      if (operand != 0 || in.shape.IsTuple()) return std::nullopt;
      return Result(*t, mesh, "scatter: same sharding as the operand");
    case O::kReduceWindow:
      if (operand != 0 || in.shape.IsTuple()) return std::nullopt;
      return Result(*t, mesh, "reduce-window: windowed dims keep their tiles");
    case O::kSelectAndScatter:
      if (operand != 0) return std::nullopt;
      return Result(*t, mesh, "select-and-scatter: same sharding as the operand");
    default:
      return std::nullopt;
  }
}

std::optional<RuleResult> BackwardRule(const Instruction& in, size_t operand, const HloSharding& s, const Mesh& mesh) {
  const Shape& to = in.operand(operand)->shape;
  if (s.kind == HloSharding::Kind::kManual) {
    if (IsManualBoundary(in)) return std::nullopt;
    return RuleResult{s, "manual: inside a manually partitioned region"};
  }
  if (in.opcode == O::kTuple) {
    HloSharding e = ElementSharding(s, in.shape, static_cast<int64_t>(operand));
    if (e.kind == HloSharding::Kind::kUnknown) return std::nullopt;
    return RuleResult{e, "tuple: element " + std::to_string(operand)};
  }
  if (in.opcode == O::kReduce && in.shape.IsTuple()) {  // variadic: input i pairs with result i
    if (operand >= in.operands.size() / 2) return std::nullopt;
    const Shape& result = in.shape.tuple_shapes[operand];
    std::optional<Tiling> t = ToTiling(ElementSharding(s, in.shape, static_cast<int64_t>(operand)), result.rank(), mesh);
    if (!t) return std::nullopt;
    std::vector<int64_t> kept;
    for (int64_t i = 0; i < to.rank(); ++i)
      if (std::find(in.dimensions.begin(), in.dimensions.end(), i) == in.dimensions.end()) kept.push_back(i);
    return Result(InsertDims(*t, kept, to.rank()), mesh, "reduce: reduced dims unsplit");
  }
  if (!to.IsArray() || !in.shape.IsArray()) return std::nullopt;
  std::optional<Tiling> t = ToTiling(s, in.shape.rank(), mesh);
  if (!t) return std::nullopt;
  if (PassesThrough(in.opcode) || (in.opcode == O::kBitcastConvert && to.rank() == in.shape.rank())) {
    if (to.rank() != in.shape.rank()) return std::nullopt;
    return Result(*t, mesh, std::string(OpcodeName(in.opcode)) + ": operands share the result's sharding");
  }
  switch (in.opcode) {
    case O::kTranspose: {
      std::vector<int64_t> inverse(in.dimensions.size());
      for (size_t i = 0; i < in.dimensions.size(); ++i) inverse[in.dimensions[i]] = static_cast<int64_t>(i);
      return Result(TransposeTiling(*t, inverse), mesh, "transpose: inverse permutation");
    }
    case O::kBroadcast: {
      std::vector<int64_t> added;
      for (int64_t i = 0; i < in.shape.rank(); ++i)
        if (std::find(in.dimensions.begin(), in.dimensions.end(), i) == in.dimensions.end()) added.push_back(i);
      Tiling r = RemoveDims(ReplicateDims(*t, added), added);
      // The remaining dims are in result order; operand dim i is result dim dimensions[i].
      std::vector<int64_t> sorted = in.dimensions;
      std::sort(sorted.begin(), sorted.end());
      std::vector<int64_t> perm;
      for (int64_t d : in.dimensions) perm.push_back(std::find(sorted.begin(), sorted.end(), d) - sorted.begin());
      return Result(TransposeTiling(r, perm), mesh, "broadcast: broadcast dims become replication");
    }
    case O::kReshape: case O::kBitcast: {
      std::optional<Tiling> r = ReshapeTiling(*t, in.shape, to);
      if (!r) return std::nullopt;
      return Result(*r, mesh, "reshape: split dims move with their major dim");
    }
    case O::kReduce: {
      if (operand >= in.operands.size() / 2) return std::nullopt;
      std::vector<int64_t> kept;
      for (int64_t i = 0; i < to.rank(); ++i)
        if (std::find(in.dimensions.begin(), in.dimensions.end(), i) == in.dimensions.end()) kept.push_back(i);
      return Result(InsertDims(*t, kept, to.rank()), mesh, "reduce: reduced dims unsplit");
    }
    case O::kDot: {
      DotSide side = SideOf(in, operand);
      DotSide other = SideOf(in, 1 - operand);
      Tiling r = RemoveDims(ReplicateDims(*t, other.free_positions), other.free_positions);
      std::vector<int64_t> positions = side.batch;
      positions.insert(positions.end(), side.free.begin(), side.free.end());
      Tiling from_result = InsertDims(r, positions, to.rank());
      std::string rule = std::string("dot: ") + (operand == 0 ? "lhs" : "rhs") + " from the result's batch and non-contracting dims";
      // The contracting dims follow the other operand's split of its contracting dims.
      const Instruction& sibling = *in.operand(1 - operand);
      if (sibling.sharding) {
        if (std::optional<Tiling> o = ToTiling(*sibling.sharding, sibling.shape.rank(), mesh)) {
          std::vector<int64_t> rest = other.batch;
          rest.insert(rest.end(), other.free.begin(), other.free.end());
          std::vector<int64_t> order = other.contracting;
          order.insert(order.end(), rest.begin(), rest.end());
          Tiling c = TransposeTiling(*o, order);
          std::vector<int64_t> drop;
          for (size_t k = other.contracting.size(); k < order.size(); ++k) drop.push_back(static_cast<int64_t>(k));
          c = InsertDims(RemoveDims(ReplicateDims(c, drop), drop), side.contracting, to.rank());
          if (std::optional<Tiling> merged = MergeTilings(from_result, c))
            return Result(*merged, mesh, rule + ", contracting dims from " + sibling.name);
        }
      }
      return Result(from_result, mesh, rule);
    }
    case O::kConcatenate:
      return Result(ReplicateDims(*t, in.dimensions), mesh, "concatenate: the concatenated dim is unsplit");
    case O::kSlice: case O::kDynamicSlice:
      if (in.opcode == O::kDynamicSlice && operand != 0) return std::nullopt;
      return Result(ReplicateDims(*t, ChangedDims(to, in.shape)), mesh, std::string(OpcodeName(in.opcode)) + ": sliced dims unsplit");
    case O::kDynamicUpdateSlice:
      if (operand == 0) return Result(*t, mesh, "dynamic-update-slice: operand shares the result's sharding");
      if (operand == 1) return Result(ReplicateDims(*t, ChangedDims(to, in.shape)), mesh, "dynamic-update-slice: updated dims unsplit");
      return std::nullopt;
    case O::kSort:
      return Result(ReplicateDims(*t, in.dimensions), mesh, "sort: the sorted dim is unsplit");
    case O::kConvolution: {
      if (in.feature_group_count != 1 || in.batch_group_count != 1 || operand > 1) return std::nullopt;
      ConvMapping m = ConvDimsOf(in, operand);
      return Result(MapDims(*t, m.output_dims, m.operand_dims, to.rank()), mesh,
                    operand == 0 ? "convolution: input from the output's batch and spatial dims"
                                 : "convolution: kernel from the output's features");
    }
    case O::kGather: {
      GatherMapping m = GatherDimsOf(in);
      if (operand == 0) return Result(MapDims(*t, m.operand_out, m.operand_dims, to.rank()), mesh, "gather: operand dims sliced whole pass through");
      return Result(MapDims(*t, m.index_out, m.index_dims, to.rank()), mesh, "gather: index batch dims pass through");
    }
    case O::kScatter:
      if (operand != 0 || in.shape.IsTuple()) return std::nullopt;
      return Result(*t, mesh, "scatter: the operand shares the result's sharding");
    case O::kReduceWindow:
      if (operand != 0 || in.shape.IsTuple()) return std::nullopt;
      return Result(*t, mesh, "reduce-window: windowed dims keep their tiles");
    case O::kSelectAndScatter:
      if (operand > 1) return std::nullopt;
      return Result(*t, mesh, "select-and-scatter: operand and source share the result's sharding");
    default:
      return std::nullopt;
  }
}

}  // namespace pjit
