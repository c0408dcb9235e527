#include "format/shape_inference.h"

#include <algorithm>
#include <set>

#include "format/hlo_module.h"

namespace pjit {
namespace {

std::string Dims(const std::vector<int64_t>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "}";
}

Status CheckDimIndices(const std::vector<int64_t>& dims, int64_t rank, const char* what) {
  std::set<int64_t> seen;
  for (int64_t d : dims) {
    if (d < 0 || d >= rank) return InvalidArgument(what, " ", Dims(dims), " out of range for rank ", rank);
    if (!seen.insert(d).second) return InvalidArgument(what, " ", Dims(dims), " repeats dimension ", d);
  }
  return OkStatus();
}

Status ExpectOperands(const Instruction& in, size_t n) {
  if (in.operands.size() != n)
    return InvalidArgument(OpcodeName(in.opcode), " takes ", n, " operand(s), got ", in.operands.size());
  return OkStatus();
}

Status ExpectCalled(const Instruction& in, size_t n) {
  if (in.called.size() != n)
    return InvalidArgument(OpcodeName(in.opcode), " needs ", n, " called computation(s), got ", in.called.size());
  return OkStatus();
}

Status ExpectArray(const Shape& s, const char* what) {
  if (!s.IsArray()) return InvalidArgument(what, " must be an array, got ", s.ToString(false));
  return OkStatus();
}

// Checks a reducer-like computation: 2*n scalar parameters, returns n scalars (a tuple for n>1).
Status CheckReducer(const Computation& c, const std::vector<DType>& types) {
  size_t n = types.size();
  if (c.parameters.size() != 2 * n)
    return InvalidArgument("computation '", c.name, "' takes ", c.parameters.size(), " parameters, expected ", 2 * n);
  for (size_t i = 0; i < 2 * n; ++i) {
    const Shape& p = c.parameters[i]->shape;
    if (!p.IsArray() || p.rank() != 0 || p.dtype != types[i % n])
      return InvalidArgument("computation '", c.name, "' parameter ", i, " is ", p.ToString(false), ", expected ", DTypeName(types[i % n]), "[]");
  }
  const Shape& r = c.root->shape;
  std::vector<Shape> expected;
  for (DType t : types) expected.push_back(Shape::Array(t, {}));
  Shape want = n == 1 ? expected[0] : Shape::Tuple(expected);
  if (!r.Compatible(want))
    return InvalidArgument("computation '", c.name, "' returns ", r.ToString(false), ", expected ", want.ToString(false));
  return OkStatus();
}

// Operand batching dims pair up with indices batching dims, none of them the index vector dim.
Status CheckBatchingDims(const std::vector<int64_t>& operand_dims, const std::vector<int64_t>& indices_dims,
                         int64_t indices_rank, int64_t index_vector_dim) {
  if (operand_dims.size() != indices_dims.size()) return InvalidArgument("operand and indices batching dims differ in number");
  PJIT_RETURN_IF_ERROR(CheckDimIndices(indices_dims, indices_rank, "indices batching dims"));
  for (int64_t d : indices_dims)
    if (d == index_vector_dim) return InvalidArgument("index_vector_dim is also a batching dim");
  return OkStatus();
}

// Window arithmetic in 128 bits: hostile sizes, dilations and paddings cannot overflow.
StatusOr<int64_t> WindowOutput(int64_t in, const WindowDimension& w) {
  using Wide = __int128;
  Wide dilated = in == 0 ? 0 : Wide(in - 1) * w.base_dilation + 1;
  Wide padded = dilated + w.padding_low + w.padding_high;
  Wide window = Wide(w.size - 1) * w.window_dilation + 1;
  if (padded < window) return 0;
  Wide out = (padded - window) / w.stride + 1;
  if (out > kMaxElementCount) return InvalidArgument("window output dimension is too large");
  return static_cast<int64_t>(out);
}

Status CheckWindow(const std::vector<WindowDimension>& window, int64_t rank) {
  if (static_cast<int64_t>(window.size()) != rank)
    return InvalidArgument("window has ", window.size(), " dimensions, operand has ", rank);
  for (const WindowDimension& w : window)
    if (w.size < 1 || w.stride < 1 || w.base_dilation < 1 || w.window_dilation < 1)
      return InvalidArgument("window sizes, strides and dilations must be positive");
  return OkStatus();
}

// Start indices from operand `first` on: one integer scalar per dim, or (XLA's legacy packed
// form) a single integer vector with one entry per dim.
Status CheckStartIndices(const Instruction& in, size_t first, int64_t rank) {
  size_t given = in.operands.size() - first;
  if (given == 1 && in.operand(first)->shape.rank() == 1) {
    const Shape& v = in.operand(first)->shape;
    if (!IsInteger(v.dtype) || v.dims[0] != rank)
      return InvalidArgument(OpcodeName(in.opcode), " takes an integer index vector of ", rank, " entries, got ", v.ToString(false));
    return OkStatus();
  }
  if (given != static_cast<size_t>(rank))
    return InvalidArgument(OpcodeName(in.opcode), " takes ", rank, " scalar start indices, got ", given, " operands");
  for (size_t i = first; i < in.operands.size(); ++i)
    if (in.operand(i)->shape.rank() != 0 || !IsInteger(in.operand(i)->shape.dtype))
      return InvalidArgument("index operand ", i, " must be an integer scalar");
  return OkStatus();
}

int64_t GroupSize(const Instruction& in) {
  return in.replica_groups.groups.empty() ? -1 : static_cast<int64_t>(in.replica_groups.groups[0].size());
}

StatusOr<Shape> InferElementwiseBinary(const Instruction& in) {
  PJIT_RETURN_IF_ERROR(ExpectOperands(in, 2));
  const Shape& a = in.operand(0)->shape;
  const Shape& b = in.operand(1)->shape;
  PJIT_RETURN_IF_ERROR(ExpectArray(a, "operand 0"));
  if (!a.Compatible(b)) return InvalidArgument("operands ", a.ToString(false), " and ", b.ToString(false), " differ");
  Opcode op = in.opcode;
  DType t = a.dtype;
  bool bitwise = op == Opcode::kAnd || op == Opcode::kOr || op == Opcode::kXor;
  bool shift = op == Opcode::kShiftLeft || op == Opcode::kShiftRightArithmetic || op == Opcode::kShiftRightLogical;
  if (bitwise && IsFloating(t)) return InvalidArgument(OpcodeName(op), " needs integer or pred operands, got ", DTypeName(t));
  if (shift && !IsInteger(t)) return InvalidArgument(OpcodeName(op), " needs integer operands, got ", DTypeName(t));
  if ((op == Opcode::kAtan2 || op == Opcode::kPower) && t == DType::kPred)
    return InvalidArgument(OpcodeName(op), " does not take pred operands");
  return a;
}

StatusOr<Shape> InferElementwiseUnary(const Instruction& in) {
  PJIT_RETURN_IF_ERROR(ExpectOperands(in, 1));
  Shape s = in.operand(0)->shape;
  PJIT_RETURN_IF_ERROR(ExpectArray(s, "operand"));
  Opcode op = in.opcode;
  bool float_only = op == Opcode::kExp || op == Opcode::kExpm1 || op == Opcode::kLog || op == Opcode::kLog1p ||
                    op == Opcode::kSqrt || op == Opcode::kRsqrt || op == Opcode::kCbrt || op == Opcode::kTanh ||
                    op == Opcode::kLogistic || op == Opcode::kSin || op == Opcode::kCos || op == Opcode::kTan ||
                    op == Opcode::kErf || op == Opcode::kFloor || op == Opcode::kCeil ||
                    op == Opcode::kRoundNearestEven || op == Opcode::kRoundNearestAfz || op == Opcode::kIsFinite;
  if (float_only && !IsFloating(s.dtype)) return InvalidArgument(OpcodeName(op), " needs a floating-point operand, got ", DTypeName(s.dtype));
  if ((op == Opcode::kPopcnt || op == Opcode::kClz) && !IsInteger(s.dtype)) return InvalidArgument(OpcodeName(op), " needs an integer operand");
  if (op == Opcode::kNot && IsFloating(s.dtype)) return InvalidArgument("not needs an integer or pred operand");
  if (op == Opcode::kIsFinite) s.dtype = DType::kPred;
  s.layout.reset();
  return s;
}

StatusOr<Shape> InferDot(const Instruction& in) {
  PJIT_RETURN_IF_ERROR(ExpectOperands(in, 2));
  const Shape& l = in.operand(0)->shape;
  const Shape& r = in.operand(1)->shape;
  PJIT_RETURN_IF_ERROR(ExpectArray(l, "lhs"));
  PJIT_RETURN_IF_ERROR(ExpectArray(r, "rhs"));
  const DotDimensionNumbers& d = in.dot_dims;
  std::vector<int64_t> lhs_all = d.lhs_batch, rhs_all = d.rhs_batch;
  lhs_all.insert(lhs_all.end(), d.lhs_contracting.begin(), d.lhs_contracting.end());
  rhs_all.insert(rhs_all.end(), d.rhs_contracting.begin(), d.rhs_contracting.end());
  PJIT_RETURN_IF_ERROR(CheckDimIndices(lhs_all, l.rank(), "lhs batch+contracting dims"));
  PJIT_RETURN_IF_ERROR(CheckDimIndices(rhs_all, r.rank(), "rhs batch+contracting dims"));
  if (d.lhs_batch.size() != d.rhs_batch.size()) return InvalidArgument("lhs and rhs have different numbers of batch dims");
  if (d.lhs_contracting.size() != d.rhs_contracting.size()) return InvalidArgument("lhs and rhs have different numbers of contracting dims");
  for (size_t i = 0; i < d.lhs_batch.size(); ++i)
    if (l.dims[d.lhs_batch[i]] != r.dims[d.rhs_batch[i]]) return InvalidArgument("batch dimension ", i, " sizes differ: ", l.dims[d.lhs_batch[i]], " vs ", r.dims[d.rhs_batch[i]]);
  for (size_t i = 0; i < d.lhs_contracting.size(); ++i)
    if (l.dims[d.lhs_contracting[i]] != r.dims[d.rhs_contracting[i]])
      return InvalidArgument("contracting dimension sizes differ: lhs ", l.ToString(false), " dim ", d.lhs_contracting[i], " vs rhs ", r.ToString(false), " dim ", d.rhs_contracting[i]);
  std::vector<int64_t> out;
  for (int64_t b : d.lhs_batch) out.push_back(l.dims[b]);
  for (int64_t i = 0; i < l.rank(); ++i)
    if (std::find(lhs_all.begin(), lhs_all.end(), i) == lhs_all.end()) out.push_back(l.dims[i]);
  for (int64_t i = 0; i < r.rank(); ++i)
    if (std::find(rhs_all.begin(), rhs_all.end(), i) == rhs_all.end()) out.push_back(r.dims[i]);
  return Shape::Array(in.shape.dtype, out);  // the result type may be wider (preferred_element_type)
}

StatusOr<Shape> InferConvolution(const Instruction& in) {
  PJIT_RETURN_IF_ERROR(ExpectOperands(in, 2));
  const Shape& x = in.operand(0)->shape;
  const Shape& k = in.operand(1)->shape;
  const ConvolutionDimensionNumbers& d = in.conv_dims;
  size_t n = d.input_spatial.size();
  if (x.rank() != static_cast<int64_t>(n + 2) || k.rank() != static_cast<int64_t>(n + 2) ||
      d.kernel_spatial.size() != n || d.output_spatial.size() != n)
    return InvalidArgument("dim_labels have ", n, " spatial dims but input is ", x.ToString(false), " and kernel ", k.ToString(false));
  auto labels = [](int64_t a, int64_t b, const std::vector<int64_t>& spatial) {
    std::vector<int64_t> all = {a, b};
    all.insert(all.end(), spatial.begin(), spatial.end());
    return all;
  };
  int64_t rank = static_cast<int64_t>(n + 2);
  PJIT_RETURN_IF_ERROR(CheckDimIndices(labels(d.input_batch, d.input_feature, d.input_spatial), rank, "input dim_labels"));
  PJIT_RETURN_IF_ERROR(CheckDimIndices(labels(d.kernel_input_feature, d.kernel_output_feature, d.kernel_spatial), rank, "kernel dim_labels"));
  PJIT_RETURN_IF_ERROR(CheckDimIndices(labels(d.output_batch, d.output_feature, d.output_spatial), rank, "output dim_labels"));
  std::vector<WindowDimension> window = in.window;
  if (window.empty()) window.resize(n);
  PJIT_RETURN_IF_ERROR(CheckWindow(window, static_cast<int64_t>(n)));
  int64_t fg = in.feature_group_count, bg = in.batch_group_count;
  if (fg < 1 || bg < 1) return InvalidArgument("group counts must be positive");
  if (x.dims[d.input_feature] != k.dims[d.kernel_input_feature] * fg)
    return InvalidArgument("input feature size ", x.dims[d.input_feature], " != kernel input feature size ", k.dims[d.kernel_input_feature], " * feature_group_count ", fg);
  if (fg > 1 && bg > 1) return InvalidArgument("feature_group_count and batch_group_count cannot both exceed 1");
  if (k.dims[d.kernel_output_feature] % fg != 0 || k.dims[d.kernel_output_feature] % bg != 0 || x.dims[d.input_batch] % bg != 0)
    return InvalidArgument("group counts do not divide the feature/batch sizes");
  std::vector<int64_t> out(n + 2);
  out[d.output_batch] = x.dims[d.input_batch] / bg;
  out[d.output_feature] = k.dims[d.kernel_output_feature];
  for (size_t i = 0; i < n; ++i) {
    if (window[i].size != k.dims[d.kernel_spatial[i]])
      return InvalidArgument("window size ", window[i].size, " != kernel spatial size ", k.dims[d.kernel_spatial[i]]);
    PJIT_ASSIGN_OR_RETURN(out[d.output_spatial[i]], WindowOutput(x.dims[d.input_spatial[i]], window[i]));
  }
  return Shape::Array(in.shape.dtype, out);
}

StatusOr<Shape> InferGather(const Instruction& in) {
  PJIT_RETURN_IF_ERROR(ExpectOperands(in, 2));
  const Shape& operand = in.operand(0)->shape;
  const Shape& indices = in.operand(1)->shape;
  const GatherDimensionNumbers& g = in.gather_dims;
  if (!IsInteger(indices.dtype)) return InvalidArgument("gather indices must be integers");
  if (static_cast<int64_t>(in.slice_sizes.size()) != operand.rank())
    return InvalidArgument("slice_sizes has ", in.slice_sizes.size(), " entries, operand rank is ", operand.rank());
  for (int64_t i = 0; i < operand.rank(); ++i)
    if (in.slice_sizes[i] < 0 || in.slice_sizes[i] > operand.dims[i])
      return InvalidArgument("slice_sizes[", i, "]=", in.slice_sizes[i], " exceeds operand dim ", operand.dims[i]);
  if (g.index_vector_dim < 0 || g.index_vector_dim > indices.rank()) return InvalidArgument("index_vector_dim out of range");
  int64_t index_len = g.index_vector_dim < indices.rank() ? indices.dims[g.index_vector_dim] : 1;
  if (static_cast<int64_t>(g.start_index_map.size()) != index_len)
    return InvalidArgument("start_index_map has ", g.start_index_map.size(), " entries, index vector has ", index_len);
  PJIT_RETURN_IF_ERROR(CheckDimIndices(g.start_index_map, operand.rank(), "start_index_map"));
  std::vector<int64_t> removed = g.collapsed_slice_dims;
  removed.insert(removed.end(), g.operand_batching_dims.begin(), g.operand_batching_dims.end());
  PJIT_RETURN_IF_ERROR(CheckDimIndices(removed, operand.rank(), "collapsed_slice_dims+operand_batching_dims"));
  for (int64_t c : g.collapsed_slice_dims)
    if (in.slice_sizes[c] > 1) return InvalidArgument("collapsed dim ", c, " has slice size ", in.slice_sizes[c]);
  PJIT_RETURN_IF_ERROR(CheckBatchingDims(g.operand_batching_dims, g.start_indices_batching_dims, indices.rank(), g.index_vector_dim));
  std::vector<int64_t> offsets, batch;
  for (int64_t i = 0; i < operand.rank(); ++i)
    if (std::find(removed.begin(), removed.end(), i) == removed.end()) offsets.push_back(in.slice_sizes[i]);
  for (int64_t i = 0; i < indices.rank(); ++i)
    if (i != g.index_vector_dim) batch.push_back(indices.dims[i]);
  if (g.offset_dims.size() != offsets.size())
    return InvalidArgument("offset_dims has ", g.offset_dims.size(), " entries, expected ", offsets.size());
  int64_t rank = static_cast<int64_t>(offsets.size() + batch.size());
  PJIT_RETURN_IF_ERROR(CheckDimIndices(g.offset_dims, rank, "offset_dims"));
  std::vector<int64_t> out(rank);
  size_t oi = 0, bi = 0;
  for (int64_t i = 0; i < rank; ++i) {
    if (std::find(g.offset_dims.begin(), g.offset_dims.end(), i) != g.offset_dims.end()) out[i] = offsets[oi++];
    else out[i] = batch[bi++];
  }
  return Shape::Array(operand.dtype, out);
}

StatusOr<Shape> InferScatter(const Instruction& in) {
  size_t n_ops = in.operands.size();
  if (n_ops < 3 || (n_ops - 1) % 2 != 0) return InvalidArgument("scatter takes N operands, indices and N updates");
  size_t n = (n_ops - 1) / 2;
  PJIT_RETURN_IF_ERROR(ExpectCalled(in, 1));
  std::vector<DType> types;
  std::vector<Shape> shapes;
  for (size_t i = 0; i < n; ++i) {
    types.push_back(in.operand(i)->shape.dtype);
    shapes.push_back(in.operand(i)->shape);
  }
  if (!IsInteger(in.operand(n)->shape.dtype)) return InvalidArgument("scatter indices must be integers");
  PJIT_RETURN_IF_ERROR(CheckReducer(*in.called[0], types));
  const ScatterDimensionNumbers& s = in.scatter_dims;
  const Shape& operand = shapes[0];
  PJIT_RETURN_IF_ERROR(CheckDimIndices(s.scatter_dims_to_operand_dims, operand.rank(), "scatter_dims_to_operand_dims"));
  std::vector<int64_t> removed = s.inserted_window_dims;
  removed.insert(removed.end(), s.input_batching_dims.begin(), s.input_batching_dims.end());
  PJIT_RETURN_IF_ERROR(CheckDimIndices(removed, operand.rank(), "inserted_window_dims+input_batching_dims"));
  const Shape& indices = in.operand(n)->shape;
  if (s.index_vector_dim < 0 || s.index_vector_dim > indices.rank()) return InvalidArgument("index_vector_dim out of range");
  int64_t index_len = s.index_vector_dim < indices.rank() ? indices.dims[s.index_vector_dim] : 1;
  if (static_cast<int64_t>(s.scatter_dims_to_operand_dims.size()) != index_len)
    return InvalidArgument("scatter_dims_to_operand_dims has ", s.scatter_dims_to_operand_dims.size(), " entries, index vector has ", index_len);
  PJIT_RETURN_IF_ERROR(CheckBatchingDims(s.input_batching_dims, s.scatter_indices_batching_dims, indices.rank(), s.index_vector_dim));
  const Shape& updates = in.operand(n + 1)->shape;
  for (size_t i = 0; i < n; ++i) {
    if (in.operand(i)->shape.dims != operand.dims) return InvalidArgument("scatter operands have different dims");
    if (in.operand(n + 1 + i)->shape.dims != updates.dims || in.operand(n + 1 + i)->shape.dtype != types[i])
      return InvalidArgument("scatter updates ", i, " do not match");
  }
  PJIT_RETURN_IF_ERROR(CheckDimIndices(s.update_window_dims, updates.rank(), "update_window_dims"));
  if (updates.rank() != static_cast<int64_t>(s.update_window_dims.size()) + indices.rank() - (s.index_vector_dim < indices.rank() ? 1 : 0))
    return InvalidArgument("updates rank ", updates.rank(), " does not match the window and scatter dims");
  if (static_cast<int64_t>(s.update_window_dims.size() + removed.size()) != operand.rank())
    return InvalidArgument("update_window_dims + inserted_window_dims must cover the operand rank ", operand.rank());
  return n == 1 ? shapes[0] : Shape::Tuple(shapes);
}

StatusOr<Shape> InferReduce(const Instruction& in) {
  size_t n = in.operands.size() / 2;
  if (in.operands.size() < 2 || in.operands.size() % 2) return InvalidArgument("reduce takes N inputs and N init values");
  PJIT_RETURN_IF_ERROR(ExpectCalled(in, 1));
  std::vector<DType> types;
  const Shape& first = in.operand(0)->shape;
  for (size_t i = 0; i < n; ++i) {
    const Shape& s = in.operand(i)->shape;
    PJIT_RETURN_IF_ERROR(ExpectArray(s, "reduce input"));
    if (s.dims != first.dims) return InvalidArgument("reduce inputs have different dims");
    const Shape& init = in.operand(n + i)->shape;
    if (init.rank() != 0 || init.dtype != s.dtype) return InvalidArgument("init value ", i, " must be a ", DTypeName(s.dtype), " scalar, got ", init.ToString(false));
    types.push_back(s.dtype);
  }
  PJIT_RETURN_IF_ERROR(CheckDimIndices(in.dimensions, first.rank(), "dimensions"));
  PJIT_RETURN_IF_ERROR(CheckReducer(*in.called[0], types));
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < first.rank(); ++i)
    if (std::find(in.dimensions.begin(), in.dimensions.end(), i) == in.dimensions.end()) dims.push_back(first.dims[i]);
  std::vector<Shape> outs;
  for (DType t : types) outs.push_back(Shape::Array(t, dims));
  return n == 1 ? outs[0] : Shape::Tuple(outs);
}

StatusOr<Shape> InferReduceWindow(const Instruction& in) {
  size_t n = in.operands.size() / 2;
  if (in.operands.size() < 2 || in.operands.size() % 2) return InvalidArgument("reduce-window takes N inputs and N init values");
  PJIT_RETURN_IF_ERROR(ExpectCalled(in, 1));
  const Shape& first = in.operand(0)->shape;
  PJIT_RETURN_IF_ERROR(CheckWindow(in.window, first.rank()));
  std::vector<DType> types;
  for (size_t i = 0; i < n; ++i) types.push_back(in.operand(i)->shape.dtype);
  PJIT_RETURN_IF_ERROR(CheckReducer(*in.called[0], types));
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < first.rank(); ++i) {
    PJIT_ASSIGN_OR_RETURN(int64_t d, WindowOutput(first.dims[i], in.window[i]));
    dims.push_back(d);
  }
  std::vector<Shape> outs;
  for (DType t : types) outs.push_back(Shape::Array(t, dims));
  return n == 1 ? outs[0] : Shape::Tuple(outs);
}

}  // namespace

StatusOr<Shape> InferShape(const Instruction& in) {
  using O = Opcode;
  const Shape& declared = in.shape;
  if (IsElementwiseBinary(in.opcode)) return InferElementwiseBinary(in);
  if (IsElementwiseUnary(in.opcode)) return InferElementwiseUnary(in);
  auto operand = [&](size_t i) -> const Shape& { return in.operand(i)->shape; };
  switch (in.opcode) {
    case O::kParameter:
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 0));
      return declared;
    case O::kConstant:
      return in.literal.shape();
    case O::kIota:
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 0));
      PJIT_RETURN_IF_ERROR(ExpectArray(declared, "iota"));
      if (in.dimensions.size() != 1 || in.dimensions[0] < 0 || in.dimensions[0] >= declared.rank())
        return InvalidArgument("iota_dimension out of range for ", declared.ToString(false));
      return declared;
    case O::kPartitionId: case O::kReplicaId:
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 0));
      return Shape::Array(DType::kU32, {});
    case O::kAfterAll:
      return Shape::Token();
    case O::kTuple: {
      std::vector<Shape> elements;
      for (const Instruction* o : in.operands) elements.push_back(o->shape);
      return Shape::Tuple(elements);
    }
    case O::kGetTupleElement:
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 1));
      if (!operand(0).IsTuple()) return InvalidArgument("operand is not a tuple: ", operand(0).ToString(false));
      if (in.tuple_index < 0 || in.tuple_index >= static_cast<int64_t>(operand(0).tuple_shapes.size()))
        return InvalidArgument("index ", in.tuple_index, " out of range for ", operand(0).ToString(false));
      return operand(0).tuple_shapes[in.tuple_index];
    case O::kCall: {
      PJIT_RETURN_IF_ERROR(ExpectCalled(in, 1));
      const Computation& c = *in.called[0];
      if (c.parameters.size() != in.operands.size())
        return InvalidArgument("calls '", c.name, "' with ", in.operands.size(), " operands, it takes ", c.parameters.size());
      for (size_t i = 0; i < in.operands.size(); ++i)
        if (!operand(i).Compatible(c.parameters[i]->shape))
          return InvalidArgument("operand ", i, " is ", operand(i).ToString(false), ", '", c.name, "' takes ", c.parameters[i]->shape.ToString(false));
      return c.root->shape;
    }
    case O::kWhile: {
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 1));
      PJIT_RETURN_IF_ERROR(ExpectCalled(in, 2));
      const Computation& cond = *in.called[0];
      const Computation& body = *in.called[1];
      for (const Computation* c : {&cond, &body})
        if (c->parameters.size() != 1 || !c->parameters[0]->shape.Compatible(operand(0)))
          return InvalidArgument("'", c->name, "' must take one parameter of shape ", operand(0).ToString(false));
      if (!cond.root->shape.Compatible(Shape::Array(DType::kPred, {})))
        return InvalidArgument("condition '", cond.name, "' must return pred[], returns ", cond.root->shape.ToString(false));
      if (!body.root->shape.Compatible(operand(0)))
        return InvalidArgument("body '", body.name, "' returns ", body.root->shape.ToString(false), ", loop state is ", operand(0).ToString(false));
      return operand(0);
    }
    case O::kConditional: {
      if (in.operands.empty() || in.called.empty()) return InvalidArgument("conditional needs a selector and branches");
      DType sel = operand(0).dtype;
      if (!((sel == DType::kPred && in.called.size() == 2) || sel == DType::kS32) || operand(0).rank() != 0)
        return InvalidArgument("selector must be pred[] (with 2 branches) or s32[], got ", operand(0).ToString(false));
      if (in.operands.size() != in.called.size() + 1)
        return InvalidArgument("conditional has ", in.called.size(), " branches but ", in.operands.size() - 1, " branch operands");
      for (size_t i = 0; i < in.called.size(); ++i) {
        const Computation& b = *in.called[i];
        if (b.parameters.size() != 1 || !b.parameters[0]->shape.Compatible(operand(i + 1)))
          return InvalidArgument("branch '", b.name, "' must take one parameter of shape ", operand(i + 1).ToString(false));
        if (!b.root->shape.Compatible(in.called[0]->root->shape))
          return InvalidArgument("branches '", in.called[0]->name, "' and '", b.name, "' return different shapes");
      }
      return in.called[0]->root->shape;
    }
    case O::kCustomCall: case O::kRngBitGenerator:
      return declared;
    case O::kOptimizationBarrier:
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 1));
      return operand(0);
    case O::kAddDependency:
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 2));
      return operand(0);
    case O::kBroadcast: {
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 1));
      PJIT_RETURN_IF_ERROR(ExpectArray(declared, "broadcast"));
      const Shape& o = operand(0);
      if (static_cast<int64_t>(in.dimensions.size()) != o.rank())
        return InvalidArgument("dimensions ", Dims(in.dimensions), " must have one entry per operand dimension (", o.rank(), ")");
      PJIT_RETURN_IF_ERROR(CheckDimIndices(in.dimensions, declared.rank(), "dimensions"));
      for (int64_t i = 0; i < o.rank(); ++i)
        if (o.dims[i] != declared.dims[in.dimensions[i]])
          return InvalidArgument("operand dim ", i, " (", o.dims[i], ") does not match result dim ", in.dimensions[i], " (", declared.dims[in.dimensions[i]], ")");
      return Shape::Array(o.dtype, declared.dims);
    }
    case O::kReshape: case O::kBitcast: {
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 1));
      PJIT_RETURN_IF_ERROR(ExpectArray(declared, OpcodeName(in.opcode).data()));
      if (operand(0).ElementCount() != declared.ElementCount())
        return InvalidArgument("cannot reshape ", operand(0).ToString(false), " (", operand(0).ElementCount(), " elements) to ", declared.ToString(false));
      return Shape::Array(operand(0).dtype, declared.dims);
    }
    case O::kTranspose: {
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 1));
      const Shape& o = operand(0);
      if (static_cast<int64_t>(in.dimensions.size()) != o.rank())
        return InvalidArgument("permutation ", Dims(in.dimensions), " does not match rank ", o.rank());
      PJIT_RETURN_IF_ERROR(CheckDimIndices(in.dimensions, o.rank(), "permutation"));
      std::vector<int64_t> dims;
      for (int64_t d : in.dimensions) dims.push_back(o.dims[d]);
      return Shape::Array(o.dtype, dims);
    }
    case O::kConvert:
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 1));
      PJIT_RETURN_IF_ERROR(ExpectArray(operand(0), "operand"));
      PJIT_RETURN_IF_ERROR(ExpectArray(declared, "convert"));
      return Shape::Array(declared.dtype, operand(0).dims);
    case O::kBitcastConvert: {
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 1));
      const Shape& o = operand(0);
      int64_t from = DTypeByteSize(o.dtype), to = DTypeByteSize(declared.dtype);
      std::vector<int64_t> dims = o.dims;
      if (from > to) {
        dims.push_back(from / to);
      } else if (from < to) {
        if (dims.empty() || dims.back() != to / from)
          return InvalidArgument("cannot bitcast-convert ", o.ToString(false), " to ", DTypeName(declared.dtype));
        dims.pop_back();
      }
      return Shape::Array(declared.dtype, dims);
    }
    case O::kReducePrecision:
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 1));
      if (!IsFloating(operand(0).dtype)) return InvalidArgument("reduce-precision needs a floating-point operand");
      if (in.exponent_bits < 1 || in.exponent_bits > 11 || in.mantissa_bits < 0 || in.mantissa_bits > 52)
        return InvalidArgument("exponent_bits must be in [1, 11] and mantissa_bits in [0, 52]");
      return operand(0);
    case O::kCopy:
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 1));
      return operand(0);
    case O::kSlice: {
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 1));
      const Shape& o = operand(0);
      if (static_cast<int64_t>(in.slice.size()) != o.rank()) return InvalidArgument("slice has ", in.slice.size(), " ranges, operand rank is ", o.rank());
      std::vector<int64_t> dims;
      for (int64_t i = 0; i < o.rank(); ++i) {
        const SliceDim& s = in.slice[i];
        if (s.start < 0 || s.limit > o.dims[i] || s.start > s.limit || s.stride < 1)
          return InvalidArgument("slice [", s.start, ":", s.limit, ":", s.stride, "] out of range for dimension ", i, " of size ", o.dims[i]);
        dims.push_back((s.limit - s.start) / s.stride + ((s.limit - s.start) % s.stride != 0));
      }
      return Shape::Array(o.dtype, dims);
    }
    case O::kDynamicSlice: {
      if (in.operands.empty()) return InvalidArgument("dynamic-slice takes an operand and start indices");
      const Shape& o = operand(0);
      PJIT_RETURN_IF_ERROR(CheckStartIndices(in, 1, o.rank()));
      if (static_cast<int64_t>(in.slice_sizes.size()) != o.rank()) return InvalidArgument("dynamic_slice_sizes does not match rank ", o.rank());
      for (int64_t i = 0; i < o.rank(); ++i)
        if (in.slice_sizes[i] < 0 || in.slice_sizes[i] > o.dims[i]) return InvalidArgument("slice size ", in.slice_sizes[i], " exceeds dimension ", i, " of size ", o.dims[i]);
      return Shape::Array(o.dtype, in.slice_sizes);
    }
    case O::kDynamicUpdateSlice: {
      if (in.operands.size() < 3) return InvalidArgument("dynamic-update-slice takes operand, update and start indices");
      const Shape& o = operand(0);
      PJIT_RETURN_IF_ERROR(CheckStartIndices(in, 2, o.rank()));
      const Shape& u = operand(1);
      if (u.rank() != o.rank() || u.dtype != o.dtype) return InvalidArgument("update ", u.ToString(false), " does not fit ", o.ToString(false));
      for (int64_t i = 0; i < o.rank(); ++i)
        if (u.dims[i] > o.dims[i]) return InvalidArgument("update ", u.ToString(false), " is larger than ", o.ToString(false));
      return o;
    }
    case O::kConcatenate: {
      if (in.operands.empty()) return InvalidArgument("concatenate needs operands");
      if (in.dimensions.size() != 1) return InvalidArgument("concatenate needs one dimension");
      Shape out = operand(0);
      out.layout.reset();
      int64_t d = in.dimensions[0];
      if (d < 0 || d >= out.rank()) return InvalidArgument("dimension ", d, " out of range for rank ", out.rank());
      for (size_t i = 1; i < in.operands.size(); ++i) {
        const Shape& s = operand(i);
        bool ok = s.dtype == out.dtype && s.rank() == out.rank();
        for (int64_t k = 0; ok && k < s.rank(); ++k) ok = k == d || s.dims[k] == out.dims[k];
        if (!ok) return InvalidArgument("operand ", i, " ", s.ToString(false), " does not match ", operand(0).ToString(false), " outside dimension ", d);
        if (out.dims[d] > kMaxElementCount - s.dims[d]) return InvalidArgument("concatenated dimension is too large");
        out.dims[d] += s.dims[d];
      }
      return out;
    }
    case O::kPad: {
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 2));
      const Shape& o = operand(0);
      if (operand(1).rank() != 0 || operand(1).dtype != o.dtype) return InvalidArgument("padding value must be a ", DTypeName(o.dtype), " scalar");
      if (static_cast<int64_t>(in.padding.size()) != o.rank()) return InvalidArgument("padding has ", in.padding.size(), " dimensions, operand rank is ", o.rank());
      std::vector<int64_t> dims;
      for (int64_t i = 0; i < o.rank(); ++i) {
        const PaddingDim& p = in.padding[i];
        if (p.interior < 0) return InvalidArgument("interior padding must not be negative");
        __int128 n = __int128(o.dims[i]) + p.low + p.high + (o.dims[i] > 0 ? __int128(o.dims[i] - 1) * p.interior : 0);
        if (n < 0) return InvalidArgument("padding makes dimension ", i, " negative");
        if (n > kMaxElementCount) return InvalidArgument("padding makes dimension ", i, " too large");
        dims.push_back(static_cast<int64_t>(n));
      }
      return Shape::Array(o.dtype, dims);
    }
    case O::kReverse:
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 1));
      PJIT_RETURN_IF_ERROR(CheckDimIndices(in.dimensions, operand(0).rank(), "dimensions"));
      return operand(0);
    case O::kGather: return InferGather(in);
    case O::kScatter: return InferScatter(in);
    case O::kDot: return InferDot(in);
    case O::kConvolution: return InferConvolution(in);
    case O::kReduce: return InferReduce(in);
    case O::kReduceWindow: return InferReduceWindow(in);
    case O::kSelectAndScatter: {
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 3));
      PJIT_RETURN_IF_ERROR(ExpectCalled(in, 2));
      const Shape& o = operand(0);
      PJIT_RETURN_IF_ERROR(ExpectArray(o, "operand"));
      PJIT_RETURN_IF_ERROR(CheckWindow(in.window, o.rank()));
      std::vector<int64_t> windows;
      for (int64_t i = 0; i < o.rank(); ++i) {
        PJIT_ASSIGN_OR_RETURN(int64_t d, WindowOutput(o.dims[i], in.window[i]));
        windows.push_back(d);
      }
      if (operand(1).dtype != o.dtype || operand(1).dims != windows)
        return InvalidArgument("source ", operand(1).ToString(false), " does not match the ", Dims(windows), " windows");
      if (operand(2).rank() != 0 || operand(2).dtype != o.dtype) return InvalidArgument("init value must be a ", DTypeName(o.dtype), " scalar");
      const Computation& select = *in.called[0];
      if (select.parameters.size() != 2 || !select.root->shape.Compatible(Shape::Array(DType::kPred, {})))
        return InvalidArgument("select '", select.name, "' must take 2 scalars and return pred[]");
      for (const Instruction* p : select.parameters)
        if (!p->shape.Compatible(Shape::Array(o.dtype, {}))) return InvalidArgument("select '", select.name, "' must take ", DTypeName(o.dtype), " scalars");
      PJIT_RETURN_IF_ERROR(CheckReducer(*in.called[1], {o.dtype}));
      return o;
    }
    case O::kMap: {
      PJIT_RETURN_IF_ERROR(ExpectCalled(in, 1));
      if (in.operands.empty()) return InvalidArgument("map needs operands");
      const Computation& f = *in.called[0];
      if (f.parameters.size() != in.operands.size()) return InvalidArgument("'", f.name, "' takes ", f.parameters.size(), " parameters, map has ", in.operands.size(), " operands");
      for (size_t i = 0; i < in.operands.size(); ++i) {
        if (operand(i).dims != operand(0).dims) return InvalidArgument("map operands have different dims");
        if (!f.parameters[i]->shape.Compatible(Shape::Array(operand(i).dtype, {}))) return InvalidArgument("'", f.name, "' parameter ", i, " must be a ", DTypeName(operand(i).dtype), " scalar");
      }
      if (!f.root->shape.IsArray() || f.root->shape.rank() != 0) return InvalidArgument("'", f.name, "' must return a scalar");
      return Shape::Array(f.root->shape.dtype, operand(0).dims);
    }
    case O::kSort: {
      if (in.operands.empty()) return InvalidArgument("sort needs operands");
      PJIT_RETURN_IF_ERROR(ExpectCalled(in, 1));
      if (in.dimensions.size() != 1 || in.dimensions[0] < 0 || in.dimensions[0] >= operand(0).rank())
        return InvalidArgument("sort needs one dimension within the operand rank");
      std::vector<Shape> shapes;
      for (size_t i = 0; i < in.operands.size(); ++i) {
        if (operand(i).dims != operand(0).dims) return InvalidArgument("sort operands have different dims");
        shapes.push_back(operand(i));
      }
      const Computation& cmp = *in.called[0];
      if (cmp.parameters.size() != 2 * in.operands.size() || !cmp.root->shape.Compatible(Shape::Array(DType::kPred, {})))
        return InvalidArgument("comparator '", cmp.name, "' must take ", 2 * in.operands.size(), " scalars and return pred[]");
      return shapes.size() == 1 ? shapes[0] : Shape::Tuple(shapes);
    }
    case O::kSelect: {
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 3));
      if (operand(0).dtype != DType::kPred) return InvalidArgument("select predicate must be pred, got ", operand(0).ToString(false));
      if (!operand(1).Compatible(operand(2))) return InvalidArgument("select branches ", operand(1).ToString(false), " and ", operand(2).ToString(false), " differ");
      if (operand(0).rank() != 0 && operand(0).dims != operand(1).dims) return InvalidArgument("select predicate ", operand(0).ToString(false), " does not match ", operand(1).ToString(false));
      return operand(1);
    }
    case O::kClamp: {
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 3));
      const Shape& x = operand(1);
      for (size_t i : {size_t{0}, size_t{2}})
        if (operand(i).dtype != x.dtype || (operand(i).rank() != 0 && operand(i).dims != x.dims))
          return InvalidArgument("clamp bound ", operand(i).ToString(false), " does not match ", x.ToString(false));
      return x;
    }
    case O::kCompare: {
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 2));
      if (!operand(0).Compatible(operand(1))) return InvalidArgument("compared shapes ", operand(0).ToString(false), " and ", operand(1).ToString(false), " differ");
      return Shape::Array(DType::kPred, operand(0).dims);
    }
    case O::kAllReduce: {
      if (in.operands.empty()) return InvalidArgument("all-reduce needs operands");
      PJIT_RETURN_IF_ERROR(ExpectCalled(in, 1));
      std::vector<Shape> shapes;
      for (const Instruction* o : in.operands) shapes.push_back(o->shape);
      PJIT_RETURN_IF_ERROR(CheckReducer(*in.called[0], {shapes[0].dtype}));
      return shapes.size() == 1 ? shapes[0] : Shape::Tuple(shapes);
    }
    case O::kAllGather: case O::kReduceScatter: {
      PJIT_RETURN_IF_ERROR(ExpectOperands(in, 1));
      if (in.opcode == O::kReduceScatter) PJIT_RETURN_IF_ERROR(ExpectCalled(in, 1));
      Shape s = operand(0);
      s.layout.reset();
      if (in.dimensions.size() != 1 || in.dimensions[0] < 0 || in.dimensions[0] >= s.rank())
        return InvalidArgument(OpcodeName(in.opcode), " needs one dimension within the operand rank");
      int64_t d = in.dimensions[0];
      int64_t g = GroupSize(in);
      if (g < 0) return Shape::Array(s.dtype, declared.dims);  // group size comes from the device count
      if (g == 0) return InvalidArgument("empty replica group");
      if (in.opcode == O::kAllGather) {
        if (s.dims[d] > kMaxElementCount / g) return InvalidArgument("gathered dimension is too large");
        s.dims[d] *= g;
      } else {
        if (s.dims[d] % g) return InvalidArgument("dimension ", d, " (", s.dims[d], ") is not divisible by the group size ", g);
        s.dims[d] /= g;
      }
      return s;
    }
    case O::kAllToAll: case O::kCollectivePermute: {
      if (in.operands.empty()) return InvalidArgument(OpcodeName(in.opcode), " needs operands");
      if (in.opcode == O::kCollectivePermute) PJIT_RETURN_IF_ERROR(ExpectOperands(in, 1));
      if (in.operands.size() == 1) return operand(0);
      std::vector<Shape> shapes;
      for (const Instruction* o : in.operands) shapes.push_back(o->shape);
      return Shape::Tuple(shapes);
    }
    default:
      return Unimplemented("no shape rule for ", OpcodeName(in.opcode));
  }
}

}  // namespace pjit
