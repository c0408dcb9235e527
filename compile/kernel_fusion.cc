#include "compile/kernel_fusion.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

namespace pjit {
namespace {

bool SupportedType(DType t) { return IsArrayType(t); }

bool IsCheap(const Instruction& in) {
  return in.opcode == Opcode::kBroadcast || in.opcode == Opcode::kIota || in.opcode == Opcode::kReshape ||
         (in.opcode == Opcode::kConstant && in.shape.IsArray() && in.shape.rank() == 0);
}

bool SupportedOpcode(const Instruction& in) {
  switch (in.opcode) {
    case Opcode::kAbs: case Opcode::kNegate: case Opcode::kSign: case Opcode::kExp: case Opcode::kExpm1: case Opcode::kLog:
    case Opcode::kLog1p: case Opcode::kSqrt: case Opcode::kRsqrt: case Opcode::kTanh: case Opcode::kLogistic: case Opcode::kSin:
    case Opcode::kCos: case Opcode::kFloor: case Opcode::kCeil: case Opcode::kRoundNearestEven: case Opcode::kRoundNearestAfz:
    case Opcode::kNot: case Opcode::kErf: case Opcode::kCbrt: case Opcode::kTan: case Opcode::kIsFinite: case Opcode::kPopcnt:
    case Opcode::kClz:
    case Opcode::kAdd: case Opcode::kSubtract: case Opcode::kMultiply: case Opcode::kDivide: case Opcode::kRemainder:
    case Opcode::kMaximum: case Opcode::kMinimum: case Opcode::kPower: case Opcode::kAnd: case Opcode::kOr: case Opcode::kXor:
    case Opcode::kShiftLeft: case Opcode::kShiftRightLogical: case Opcode::kShiftRightArithmetic: case Opcode::kAtan2:
    case Opcode::kSelect: case Opcode::kClamp: case Opcode::kConvert: case Opcode::kBroadcast: case Opcode::kTranspose:
    case Opcode::kIota: case Opcode::kSlice: case Opcode::kPad: case Opcode::kConcatenate: case Opcode::kReverse:
      return true;
    case Opcode::kDynamicSlice:
    case Opcode::kDynamicUpdateSlice: {
      // One scalar start index per dim (not XLA's legacy packed index vector).
      size_t first = in.opcode == Opcode::kDynamicSlice ? 1 : 2;
      if (in.operands.size() != first + static_cast<size_t>(in.shape.rank())) return false;
      for (size_t i = first; i < in.operands.size(); ++i)
        if (in.operands[i]->shape.rank() != 0 || !IsInteger(in.operands[i]->shape.dtype)) return false;
      return true;
    }
    case Opcode::kScatter: {
      // One operand, integer indices, combined by assignment or a simple reducer; a fusion root only.
      if (in.operands.size() != 3 || !IsInteger(in.operands[1]->shape.dtype) || !in.scatter_dims.input_batching_dims.empty() ||
          in.called.size() != 1)
        return false;
      const Computation& c = *in.called[0];
      if (c.parameters.size() == 2 && c.root == c.parameters[1]) return true;
      std::optional<Opcode> op = SimpleReducer(c);
      return op && (*op == Opcode::kAdd || *op == Opcode::kMultiply || *op == Opcode::kMaximum || *op == Opcode::kMinimum ||
                    ((*op == Opcode::kAnd || *op == Opcode::kOr) && !IsFloating(in.shape.dtype)));
    }
    case Opcode::kConvolution:
      // f32 or f64 throughout: summed in double in the interpreter's order.
      return (in.shape.dtype == DType::kF32 || in.shape.dtype == DType::kF64) &&
             in.operands[0]->shape.dtype == in.shape.dtype && in.operands[1]->shape.dtype == in.shape.dtype;
    case Opcode::kGather:
      // Start indices read per output element; XLA's batching dims are not taken.
      return in.operands.size() == 2 && IsInteger(in.operands[1]->shape.dtype) && in.gather_dims.operand_batching_dims.empty();
    case Opcode::kReshape:
      return in.operands[0]->shape.IsArray() && in.operands[0]->shape.dtype == in.shape.dtype;
    case Opcode::kCompare:
      return true;
    case Opcode::kConstant:
      return in.shape.IsArray() && in.shape.rank() == 0;
    case Opcode::kReduce: case Opcode::kReduceWindow: {
      // One input folded over any of its dims (or windows) by a simple reducer, from a scalar init.
      if (in.operands.size() != 2 || in.operands[1]->shape.rank() != 0 || in.called.size() != 1) return false;
      std::optional<Opcode> op = SimpleReducer(*in.called[0]);
      if (!op || (*op != Opcode::kAdd && *op != Opcode::kMultiply && *op != Opcode::kMaximum && *op != Opcode::kMinimum &&
                  *op != Opcode::kAnd && *op != Opcode::kOr))
        return false;
      if ((*op == Opcode::kAnd || *op == Opcode::kOr) && IsFloating(in.shape.dtype)) return false;
      return true;
    }
    default:
      return false;
  }
}

// Ops whose scalar semantics the emitter has for this element type.
bool SupportedFor(const Instruction& in) {
  DType t = in.shape.dtype;
  switch (in.opcode) {
    case Opcode::kSelect: case Opcode::kCompare: case Opcode::kConvert: case Opcode::kBroadcast: case Opcode::kTranspose:
    case Opcode::kIota: case Opcode::kConstant: case Opcode::kReduce: case Opcode::kReshape: case Opcode::kSlice:
    case Opcode::kPad: case Opcode::kConcatenate: case Opcode::kReverse: case Opcode::kDynamicSlice:
    case Opcode::kDynamicUpdateSlice: case Opcode::kGather: case Opcode::kReduceWindow: case Opcode::kConvolution:
    case Opcode::kScatter: case Opcode::kSort:
      return true;
    case Opcode::kAnd: case Opcode::kOr: case Opcode::kXor: case Opcode::kNot:
      return !IsFloating(t);
    case Opcode::kShiftLeft: case Opcode::kShiftRightLogical: case Opcode::kShiftRightArithmetic: case Opcode::kPopcnt:
    case Opcode::kClz:
      return IsInteger(t);
    case Opcode::kIsFinite:
      return IsFloating(in.operands[0]->shape.dtype);
    case Opcode::kAdd: case Opcode::kSubtract: case Opcode::kMultiply: case Opcode::kMaximum: case Opcode::kMinimum:
    case Opcode::kAbs: case Opcode::kNegate: case Opcode::kSign: case Opcode::kClamp: case Opcode::kDivide:
    case Opcode::kRemainder:
      return t != DType::kPred;
    default:  // transcendental and rounding ops, power, atan2
      return IsFloating(t);
  }
}

// A root whose kernel runs loops of its own (a scatter's updates, a sort's merges, a variadic
// reduction's folds) instead of the element loop: never cut into blocks or shared by lanes,
// never a member of another kernel, and without row values.
bool RunsOwnLoops(const Instruction& in) {
  return in.opcode == Opcode::kScatter || in.opcode == Opcode::kSort || (in.opcode == Opcode::kReduce && in.shape.IsTuple());
}

// Which iteration dim each dim of a value follows, along one path from the root: an
// iteration dim, kFixed (a dim of size 1, always index 0) or kMixed (a reshape that merges
// or splits dims: several iteration dims at once).
constexpr int64_t kFixed = -1;
constexpr int64_t kMixed = -2;
using DimMap = std::vector<int64_t>;

// A reduction folding its input's last dim (or nothing at all): one launch row per output
// element.
bool IsRowFold(const Instruction& in) {
  if (in.opcode != Opcode::kReduce || in.shape.IsTuple()) return false;
  const int64_t last = in.operands[0]->shape.rank() - 1;
  return in.dimensions.empty() || std::find(in.dimensions.begin(), in.dimensions.end(), last) != in.dimensions.end();
}

}  // namespace

bool IsTrailingReduction(const Instruction& in) {
  if (in.opcode != Opcode::kReduce || in.shape.IsTuple()) return false;
  std::vector<int64_t> dims = in.dimensions;
  std::sort(dims.begin(), dims.end());
  const int64_t rank = in.operands[0]->shape.rank();
  for (size_t i = 0; i < dims.size(); ++i)
    if (dims[i] != rank - static_cast<int64_t>(dims.size() - i)) return false;
  return true;
}

bool IsColumnReduction(const Instruction& in) { return in.opcode == Opcode::kReduce && !in.shape.IsTuple() && !IsRowFold(in); }

namespace {

const Shape& IterationShapeOf(const Instruction& root) { return IsRowFold(root) ? root.operands[0]->shape : root.shape; }
int64_t RowRankOf(const Instruction& root) {
  return IsRowFold(root) ? root.shape.rank() : std::max<int64_t>(root.shape.rank() - 1, 0);
}

// The map of a reshape's operand from the map of its result: dims other than size 1 keep
// their iteration dims when both sides have the same such dims, else they are mixed.
DimMap ReshapeOperandMap(const Shape& out, const DimMap& map, const Shape& in) {
  std::vector<int64_t> out_sizes, out_dims, in_sizes;
  for (size_t d = 0; d < out.dims.size(); ++d)
    if (out.dims[d] != 1) out_sizes.push_back(out.dims[d]), out_dims.push_back(map[d]);
  for (int64_t n : in.dims)
    if (n != 1) in_sizes.push_back(n);
  DimMap result(in.dims.size(), kFixed);
  for (size_t d = 0, next = 0; d < in.dims.size(); ++d)
    if (in.dims[d] != 1) result[d] = out_sizes == in_sizes ? out_dims[next++] : kMixed;
  return result;
}

bool IsIndexShift(Opcode op) {
  return op == Opcode::kSlice || op == Opcode::kPad || op == Opcode::kConcatenate || op == Opcode::kReverse ||
         op == Opcode::kDynamicSlice || op == Opcode::kDynamicUpdateSlice;
}

// The map of operand i of an op that reads its operand at shifted indices (slice, pad, ...):
// a dim keeps its iteration dim only where the operand's index equals the result's.
DimMap ShiftedOperandMap(const Instruction& v, size_t i, const DimMap& map) {
  const Shape& o = v.operands[i]->shape;
  DimMap m(map.size(), kMixed);
  for (size_t d = 0; d < map.size(); ++d) {
    bool same = false;
    switch (v.opcode) {
      case Opcode::kSlice: same = v.slice[d].start == 0 && v.slice[d].stride == 1; break;
      case Opcode::kPad: same = v.padding[d].low == 0 && v.padding[d].interior == 0; break;
      case Opcode::kConcatenate: same = static_cast<int64_t>(d) != v.dimensions[0] || i == 0; break;
      case Opcode::kReverse: same = std::find(v.dimensions.begin(), v.dimensions.end(), static_cast<int64_t>(d)) == v.dimensions.end(); break;
      // A window as large as the dim starts at 0 whatever the start index says (it is clamped).
      case Opcode::kDynamicSlice: same = v.shape.dims[d] == o.dims[d]; break;
      default: same = i == 0 || v.shape.dims[d] == o.dims[d]; break;  // dynamic-update-slice
    }
    if (same) m[d] = map[d];
  }
  return m;
}

// Every map along which each value is reached from the root of a group, through its
// members (a value outside them, such as one deciding whether to join, ends a path).
std::map<const Instruction*, std::set<DimMap>> MapsFromRoot(const Instruction& root, const std::set<const Instruction*>& members) {
  if (RunsOwnLoops(root)) return {};
  const Shape& space = IterationShapeOf(root);
  const int64_t row_rank = RowRankOf(root);
  DimMap identity(space.dims.size());
  for (size_t d = 0; d < identity.size(); ++d) identity[d] = static_cast<int64_t>(d);
  std::map<const Instruction*, std::set<DimMap>> maps;
  std::vector<std::pair<const Instruction*, DimMap>> work;
  work.emplace_back(root.opcode == Opcode::kReduce ? root.operands[0] : &root, identity);
  while (!work.empty()) {
    auto [v, map] = std::move(work.back());
    work.pop_back();
    for (size_t d = 0; d < map.size(); ++d)
      if (v->shape.dims[d] == 1 || (map[d] >= 0 && space.dims[static_cast<size_t>(map[d])] == 1)) map[d] = kFixed;
    if (!maps[v].insert(map).second || !members.count(v)) continue;
    for (size_t i = 0; i < v->operands.size(); ++i) {
      const Instruction* o = v->operands[i];
      DimMap m;
      if (v->opcode == Opcode::kBroadcast) {
        for (int64_t d : v->dimensions) m.push_back(map[static_cast<size_t>(d)]);
      } else if (v->opcode == Opcode::kTranspose) {
        m.resize(map.size());
        for (size_t d = 0; d < v->dimensions.size(); ++d) m[static_cast<size_t>(v->dimensions[d])] = map[d];
      } else if (v->opcode == Opcode::kReshape) {
        m = ReshapeOperandMap(v->shape, map, o->shape);
      } else if (v->opcode == Opcode::kGather || v->opcode == Opcode::kReduceWindow || v->opcode == Opcode::kConvolution ||
                 v->opcode == Opcode::kScatter) {
        m = DimMap(static_cast<size_t>(o->shape.rank()), kMixed);  // read where the indices or windows say
      } else if (IsIndexShift(v->opcode) && o->shape.rank() == v->shape.rank()) {
        m = ShiftedOperandMap(*v, i, map);
      } else if (v->opcode == Opcode::kReduce && i == 0) {
        m = map;  // a row reduction folds the row's elements: its input's trailing dims are the row's
        for (int64_t d = row_rank; d < space.rank(); ++d) m.push_back(d);
      } else if (o->shape.rank() == v->shape.rank()) {
        m = map;
      }
      if (static_cast<int64_t>(m.size()) == o->shape.rank()) work.emplace_back(o, std::move(m));
    }
  }
  return maps;
}

// The single map of a value that depends only on the launch row, if it is one, from the
// maps it is reached along (MapsFromRoot).
std::optional<DimMap> RowValueMap(const Instruction& in, const Instruction& root, const std::set<DimMap>& maps) {
  // Rows of other reductions are not rows of their input, and only a fold over the trailing
  // dims folds exactly a row.
  if ((root.opcode == Opcode::kReduce && !IsTrailingReduction(root)) || (in.opcode == Opcode::kReduce && !IsTrailingReduction(in)))
    return std::nullopt;
  if (maps.size() != 1) return std::nullopt;
  const int64_t row_rank = RowRankOf(root);
  for (int64_t d : *maps.begin())
    if (d == kMixed || d >= row_rank) return std::nullopt;
  if (in.opcode == Opcode::kReduce) {
    // It must fold exactly the elements of a row.
    const Shape& space = IterationShapeOf(root);
    const Shape& folded = in.operands[0]->shape;
    if (folded.rank() - in.shape.rank() != space.rank() - row_rank) return std::nullopt;
    if (!std::equal(folded.dims.begin() + in.shape.rank(), folded.dims.end(), space.dims.begin() + row_rank)) return std::nullopt;
  }
  return *maps.begin();
}

// A comparator or reducer the emitter inlines: scalar ops it compiles, on its parameters and
// scalar constants (a reducer's root may be a tuple of them).
bool IsScalarComputation(const Computation& c) {
  for (const auto& in : c.instructions) {
    if ((in.get() == c.root && in->opcode == Opcode::kTuple) || in->opcode == Opcode::kParameter) continue;
    if (!in->shape.IsArray() || in->shape.rank() != 0 || in->opcode == Opcode::kReduce || RunsOwnLoops(*in) || !IsLoopFusible(*in))
      return false;
  }
  return true;
}

// A sort of arrays of one shape along one dim by a comparator the emitter inlines.
bool IsSortFusible(const Instruction& in) {
  if (in.operands.empty() || in.dimensions.size() != 1 || in.called.size() != 1) return false;
  for (const Instruction* o : in.operands)
    if (!o->shape.IsArray() || !SupportedType(o->shape.dtype) || o->shape.dims != in.operands[0]->shape.dims) return false;
  const Computation& c = *in.called[0];
  return c.parameters.size() == 2 * in.operands.size() && c.root->shape.dtype == DType::kPred && IsScalarComputation(c);
}

// A reduction of several arrays of one shape at once (XLA's variadic reduce, as in argmax) by
// a reducer the emitter inlines, from scalar inits.
bool IsVariadicReduceFusible(const Instruction& in) {
  const size_t n = in.operands.size() / 2;
  if (in.called.size() != 1 || in.called[0]->parameters.size() != 2 * n || in.called[0]->root->opcode != Opcode::kTuple) return false;
  for (size_t i = 0; i < 2 * n; ++i) {
    const Shape& o = in.operands[i]->shape;
    if (!o.IsArray() || !SupportedType(o.dtype) || (i < n ? o.dims != in.operands[0]->shape.dims : o.rank() != 0)) return false;
  }
  return IsScalarComputation(*in.called[0]);
}

// A root whose kernel writes each of its elements once from the element loop (not a
// reduction, nor a kernel with loops of its own): one that siblings may share.
bool IsElementwiseRoot(const Instruction& root) {
  return root.shape.IsArray() && root.opcode != Opcode::kReduce && !RunsOwnLoops(root);
}

// Multi-output fusion: a kernel with an elementwise root takes every earlier one of the same
// root dims that reads one of its inputs, so that the input is read once. The merged kernel
// runs where the later root is, so the earlier kernel's outputs must not be read before that:
// not by the later kernel itself, nor by anything that runs in between. `fusions` are in
// program order of their roots.
void MergeSiblings(const Computation& entry, std::unordered_map<const Instruction*, std::vector<const Instruction*>>& users,
                   std::vector<LoopFusion>& fusions) {
  std::unordered_map<const Instruction*, int64_t> position;
  for (size_t i = 0; i < entry.instructions.size(); ++i) position[entry.instructions[i].get()] = static_cast<int64_t>(i);
  // The kernels that compute each member (several for a duplicated cheap producer), by index
  // into `fusions`, and where each kernel went when it merged into a later one.
  std::unordered_map<const Instruction*, std::vector<size_t>> kernels_of;
  for (size_t i = 0; i < fusions.size(); ++i)
    for (const Instruction* m : fusions[i].members) kernels_of[m].push_back(i);
  std::vector<size_t> into(fusions.size());
  for (size_t i = 0; i < into.size(); ++i) into[i] = i;
  auto merged = [&](size_t i) {
    while (into[i] != i) i = into[i];
    return i;
  };
  // Where a value is first computed: its earliest kernel, or where it stands.
  auto runs_at = [&](const Instruction* in) {
    auto k = kernels_of.find(in);
    if (k == kernels_of.end()) return position.at(in);
    int64_t first = std::numeric_limits<int64_t>::max();
    for (size_t i : k->second) first = std::min(first, position.at(fusions[merged(i)].root));
    return first;
  };
  auto by_position = [&](const Instruction* x, const Instruction* y) { return position.at(x) < position.at(y); };
  std::unordered_map<const Instruction*, std::vector<size_t>> readers;  // kernels reading each input
  for (size_t b = 0; b < fusions.size(); ++b) {
    LoopFusion& later = fusions[b];
    const int64_t at = position.at(later.root);
    std::set<size_t> candidates;
    if (IsElementwiseRoot(*later.root))
      for (const Instruction* input : later.inputs)
        for (size_t a : readers[input]) candidates.insert(merged(a));
    for (size_t a : candidates) {
      LoopFusion& earlier = fusions[a];
      if (!IsElementwiseRoot(*earlier.root) || earlier.root->shape.dims != later.root->shape.dims ||
          earlier.members.size() + later.members.size() > kMaxKernelMembers)
        continue;
      std::vector<const Instruction*> outputs = earlier.siblings;
      outputs.push_back(earlier.root);
      bool in_time = true;
      for (const Instruction* o : outputs) {
        in_time = in_time && std::find(later.inputs.begin(), later.inputs.end(), o) == later.inputs.end();
        for (const Instruction* u : users[o]) in_time = in_time && runs_at(u) > at;
      }
      if (!in_time) continue;
      later.siblings.insert(later.siblings.end(), outputs.begin(), outputs.end());
      std::sort(later.siblings.begin(), later.siblings.end(), by_position);
      later.members.insert(later.members.end(), earlier.members.begin(), earlier.members.end());
      std::sort(later.members.begin(), later.members.end(), by_position);
      later.members.erase(std::unique(later.members.begin(), later.members.end()), later.members.end());
      for (const Instruction* i : earlier.inputs)
        if (std::find(later.inputs.begin(), later.inputs.end(), i) == later.inputs.end()) later.inputs.push_back(i);
      // Row values stay in program order (each is computed in one kernel only: no duplicates).
      std::vector<std::pair<const Instruction*, DimMap>> rows;
      for (size_t i = 0; i < later.row_values.size(); ++i) rows.emplace_back(later.row_values[i], later.row_value_dims[i]);
      for (size_t i = 0; i < earlier.row_values.size(); ++i) rows.emplace_back(earlier.row_values[i], earlier.row_value_dims[i]);
      std::sort(rows.begin(), rows.end(), [&](const auto& x, const auto& y) { return by_position(x.first, y.first); });
      later.row_values.clear();
      later.row_value_dims.clear();
      for (auto& [v, dims] : rows) later.row_values.push_back(v), later.row_value_dims.push_back(std::move(dims));
      into[a] = b;
    }
    for (const Instruction* input : later.inputs) readers[input].push_back(b);
  }
  std::vector<LoopFusion> kept;
  for (size_t i = 0; i < fusions.size(); ++i)
    if (into[i] == i) kept.push_back(std::move(fusions[i]));
  fusions = std::move(kept);
}

}  // namespace

bool IsVariadicReduce(const Instruction& in) { return in.opcode == Opcode::kReduce && in.shape.IsTuple(); }

bool IsLoopFusible(const Instruction& in) {
  if (in.opcode == Opcode::kSort) return IsSortFusible(in);
  if (IsVariadicReduce(in)) return IsVariadicReduceFusible(in);
  if (!in.shape.IsArray() || !SupportedType(in.shape.dtype) || !SupportedOpcode(in) || !SupportedFor(in)) return false;
  for (const Instruction* o : in.operands)
    if (!o->shape.IsArray() || !SupportedType(o->shape.dtype)) return false;
  return true;
}

int64_t LoopFusionRowRank(const LoopFusion& f) { return RowRankOf(*f.root); }

int64_t LoopFusionBlock(const LoopFusion& f, RowBlocking blocking) {
  const Shape& s = f.root->shape;
  if (IsRowFold(*f.root) || s.rank() == 0 || RunsOwnLoops(*f.root)) return 0;
  return s.dims.back() > blocking.long_row && f.row_values.empty() ? blocking.block : s.dims.back();
}

int64_t LoopFusionLanes(const LoopFusion& f, RowBlocking blocking) {
  const Shape& s = f.root->shape;
  if (blocking.lanes <= 1 || RunsOwnLoops(*f.root)) return 1;
  if (IsRowFold(*f.root)) {
    int64_t folded = 1;
    for (int64_t d : f.root->dimensions) folded *= f.root->operands[0]->shape.dims[static_cast<size_t>(d)];
    return folded >= blocking.lanes ? blocking.lanes : 1;
  }
  return !f.row_values.empty() && s.rank() > 0 && s.dims.back() >= blocking.lanes ? blocking.lanes : 1;
}

int64_t LoopFusionRows(const LoopFusion& f, RowBlocking blocking) {
  const Shape& s = f.root->shape;
  if (f.root->opcode == Opcode::kScatter) return 1;  // updates combine in order, on one thread
  if (f.root->opcode == Opcode::kSort) {  // one per sorted row
    const Shape& x = f.root->operands[0]->shape;
    const int64_t n = x.dims[static_cast<size_t>(f.root->dimensions[0])];
    return n ? x.ElementCount() / n : 0;
  }
  if (IsVariadicReduce(*f.root)) return f.root->shape.tuple_shapes[0].ElementCount();  // one per output element
  if (IsRowFold(*f.root) || s.rank() == 0) return s.ElementCount();
  if (!s.dims.back()) return 0;
  int64_t block = LoopFusionBlock(f, blocking);
  return s.ElementCount() / s.dims.back() * ((s.dims.back() + block - 1) / block);
}

uint64_t LoopFusionScratchBytes(const LoopFusion& f) {
  if (f.root->opcode != Opcode::kSort) return 0;
  uint64_t bytes = 0;
  for (const Instruction* o : f.root->operands) bytes += SortScratchRegion(static_cast<uint64_t>(o->shape.ByteSize()));
  return bytes;
}

std::vector<size_t> LoopFusionInPlaceInputs(const LoopFusion& f) {
  const Instruction& root = *f.root;
  if (!IsElementwiseRoot(root) || !f.siblings.empty() || !f.row_values.empty()) return {};
  std::set<const Instruction*> members(f.members.begin(), f.members.end());
  std::map<const Instruction*, std::set<DimMap>> maps = MapsFromRoot(root, members);
  DimMap identity(root.shape.dims.size());
  for (size_t d = 0; d < identity.size(); ++d) identity[d] = root.shape.dims[d] == 1 ? kFixed : static_cast<int64_t>(d);
  std::vector<size_t> out;
  for (size_t i = 0; i < f.inputs.size(); ++i) {
    const Instruction* input = f.inputs[i];
    if (input->shape.IsArray() && input->shape.dims == root.shape.dims && maps[input] == std::set<DimMap>{identity}) out.push_back(i);
  }
  return out;
}

std::vector<LoopFusion> FindLoopFusions(const Computation& entry) {
  std::unordered_map<const Instruction*, std::vector<const Instruction*>> users;
  for (const auto& in : entry.instructions)
    for (const Instruction* o : in->operands) users[o].push_back(in.get());
  // Group ids of each instruction (several for a duplicated cheap producer).
  std::unordered_map<const Instruction*, std::set<size_t>> groups_of;
  std::vector<const Instruction*> roots;
  std::vector<std::set<const Instruction*>> members;
  for (auto it = entry.instructions.rbegin(); it != entry.instructions.rend(); ++it) {
    const Instruction* in = it->get();
    if (!IsLoopFusible(*in)) continue;
    const std::vector<const Instruction*>& us = users[in];
    bool all_fused = in != entry.root && !us.empty();
    bool under_broadcast = false;
    std::set<size_t> consumer_groups;
    for (const Instruction* u : us) {
      auto g = groups_of.find(u);
      if (g == groups_of.end() || g->second.empty()) all_fused = false;
      else consumer_groups.insert(g->second.begin(), g->second.end());
      under_broadcast |= u->opcode == Opcode::kBroadcast;
    }
    // A full group takes no more: a longer chain continues in a kernel of its own.
    for (size_t g : consumer_groups) all_fused = all_fused && members[g].size() < kMaxKernelMembers;
    bool join = false;
    if (all_fused && IsCheap(*in)) {
      join = true;
    } else if (all_fused && consumer_groups.size() == 1 && !RunsOwnLoops(*in)) {
      // A reduction or an op under a broadcast joins only as a value of the row.
      size_t g = *consumer_groups.begin();
      join = (in->opcode != Opcode::kReduce && !under_broadcast) ||
             RowValueMap(*in, *roots[g], MapsFromRoot(*roots[g], members[g])[in]).has_value();
    }
    if (join) {
      groups_of[in] = consumer_groups;
      for (size_t g : consumer_groups) members[g].insert(in);
      continue;
    }
    // A constant alone is data and a reshape alone renames a buffer: neither is a kernel.
    if (in->opcode == Opcode::kConstant || in->opcode == Opcode::kReshape) continue;
    groups_of[in] = {roots.size()};
    roots.push_back(in);
    members.push_back({in});
  }
  std::vector<LoopFusion> out(roots.size());
  for (size_t g = 0; g < roots.size(); ++g) {
    out[g].root = roots[g];
    out[g].name = "fusion." + roots[g]->name;
  }
  for (const auto& in : entry.instructions) {
    auto g = groups_of.find(in.get());
    if (g == groups_of.end()) continue;
    for (size_t id : g->second) out[id].members.push_back(in.get());
  }
  for (size_t g = 0; g < out.size(); ++g) {
    LoopFusion& f = out[g];
    std::map<const Instruction*, std::set<DimMap>> maps = MapsFromRoot(*f.root, members[g]);
    for (const Instruction* m : f.members) {
      if (m == f.root || IsCheap(*m)) continue;
      if (std::optional<DimMap> map = RowValueMap(*m, *f.root, maps[m])) {
        f.row_values.push_back(m);
        f.row_value_dims.push_back(std::move(*map));
      }
    }
  }
  for (LoopFusion& f : out) {
    std::set<const Instruction*> in_group(f.members.begin(), f.members.end());
    for (const Instruction* m : f.members)
      for (const Instruction* o : m->operands)
        if (!in_group.count(o) && std::find(f.inputs.begin(), f.inputs.end(), o) == f.inputs.end()) f.inputs.push_back(o);
  }
  // In program order of their roots: the kernel table is deterministic.
  std::reverse(out.begin(), out.end());
  MergeSiblings(entry, users, out);
  return out;
}

namespace {

// The computations a while loop (condition and body) or conditional (branches) runs.
std::vector<const Computation*> ControlFlowComputations(const Instruction& in) {
  if (in.opcode != Opcode::kWhile && in.opcode != Opcode::kConditional) return {};
  return std::vector<const Computation*>(in.called.begin(), in.called.end());
}

}  // namespace

std::vector<LoopFusion> FindModuleLoopFusions(const Module& module) {
  std::set<const Computation*> nested;
  std::vector<const Computation*> work{module.entry};
  while (!work.empty()) {
    const Computation* c = work.back();
    work.pop_back();
    for (const auto& in : c->instructions)
      for (const Computation* callee : ControlFlowComputations(*in))
        if (nested.insert(callee).second) work.push_back(callee);
  }
  std::vector<LoopFusion> out = FindLoopFusions(*module.entry);
  std::set<std::string> names;
  for (const LoopFusion& f : out) names.insert(f.name);
  for (const auto& c : module.computations) {
    if (c.get() == module.entry || !nested.count(c.get())) continue;
    for (LoopFusion& f : FindLoopFusions(*c)) {
      std::string name = "fusion." + c->name + "." + f.root->name;
      f.name = name;
      for (int n = 1; names.count(f.name); ++n) f.name = name + "." + std::to_string(n);
      names.insert(f.name);
      out.push_back(std::move(f));
    }
  }
  return out;
}

}  // namespace pjit
