#include "run/interpreter/evaluator.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <numeric>
#include <optional>
#include <thread>
#include <unordered_map>

#include "run/interpreter/collectives.h"
#include "format/elementwise.h"
#include "format/elementwise_eval.h"

namespace pjit {
namespace {

using elementwise::ApplyBinary;
using elementwise::ApplyCompare;

// Calls f(index, linear) for every index of dims, in row-major order.
template <typename F>
void ForEachIndex(const std::vector<int64_t>& dims, F&& f) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  if (n == 0) return;
  std::vector<int64_t> index(dims.size(), 0);
  for (int64_t linear = 0; linear < n; ++linear) {
    f(index, linear);
    for (int64_t k = static_cast<int64_t>(dims.size()) - 1; k >= 0; --k) {
      if (++index[k] < dims[k]) break;
      index[k] = 0;
    }
  }
}

int64_t Dot(const std::vector<int64_t>& index, const std::vector<int64_t>& strides) {
  int64_t s = 0;
  for (size_t i = 0; i < index.size(); ++i) s += index[i] * strides[i];
  return s;
}

// Copies element `from_index` of `from` into element `to_index` of `to` (same dtype).
inline void CopyElement(const Literal& from, int64_t from_index, Literal& to, int64_t to_index, size_t size) {
  std::memcpy(to.bytes().data() + to_index * size, from.bytes().data() + from_index * size, size);
}

Literal ScalarFrom(const Literal& array, int64_t index) {
  Literal s(Shape::Array(array.shape().dtype, {}));
  size_t size = static_cast<size_t>(DTypeByteSize(array.shape().dtype));
  CopyElement(array, index, s, 0, size);
  return s;
}

class Evaluator {
 public:
  explicit Evaluator(const EvaluationOptions& options) : options_(options) {}

  StatusOr<Literal> Call(const Computation& c, const std::vector<const Literal*>& args);
  StatusOr<Literal> Eval(const Instruction& in, const std::vector<const Literal*>& ops);

 private:
  template <typename... Args>
  static Status Fail(const Instruction& in, const Args&... args) {
    return InvalidArgument(in.location, ": ", in.name, ": ", args...);
  }

  StatusOr<Literal> CallScalars(const Computation& c, const std::vector<Literal>& scalars);

  Literal BitcastConvert(const Instruction& in, const Literal& x);
  Literal Iota(const Instruction& in);
  Literal Broadcast(const Instruction& in, const Literal& x);
  Literal Transpose(const Instruction& in, const Literal& x);
  Literal Bitcast(const Instruction& in, const Literal& x);
  Literal Slice(const Instruction& in, const Literal& x);
  Literal DynamicSlice(const Instruction& in, const std::vector<const Literal*>& ops);
  Literal DynamicUpdateSlice(const Instruction& in, const std::vector<const Literal*>& ops);
  Literal Concatenate(const Instruction& in, const std::vector<const Literal*>& ops);
  Literal Pad(const Instruction& in, const Literal& x, const Literal& value);
  Literal Reverse(const Instruction& in, const Literal& x);
  Literal DotOp(const Instruction& in, const Literal& lhs, const Literal& rhs);
  Literal Convolution(const Instruction& in, const Literal& x, const Literal& k);
  Literal Gather(const Instruction& in, const Literal& operand, const Literal& indices);
  StatusOr<Literal> Scatter(const Instruction& in, const std::vector<const Literal*>& ops);
  StatusOr<Literal> Reduce(const Instruction& in, const std::vector<const Literal*>& ops);
  StatusOr<Literal> ReduceWindow(const Instruction& in, const std::vector<const Literal*>& ops);
  StatusOr<Literal> SelectAndScatter(const Instruction& in, const std::vector<const Literal*>& ops);
  StatusOr<Literal> Map(const Instruction& in, const std::vector<const Literal*>& ops);
  StatusOr<Literal> Sort(const Instruction& in, const std::vector<const Literal*>& ops);
  StatusOr<Literal> Collective(const Instruction& in, const std::vector<const Literal*>& ops);

 public:
  // Elementwise a (op) b with `instr`'s to_apply computation (the all-reduce reducer).
  StatusOr<Literal> CombineArrays(const Instruction& instr, const Literal& a, const Literal& b);

 private:

  const EvaluationOptions& options_;
};

StatusOr<Literal> Evaluator::Call(const Computation& c, const std::vector<const Literal*>& args) {
  if (args.size() != c.parameters.size())
    return InvalidArgument("computation '", c.name, "' takes ", c.parameters.size(), " arguments, got ", args.size());
  for (size_t i = 0; i < args.size(); ++i)
    if (!args[i]->shape().Compatible(c.parameters[i]->shape))
      return InvalidArgument("computation '", c.name, "' parameter ", i, " is ", c.parameters[i]->shape.ToString(false), ", got ", args[i]->shape().ToString(false));
  std::unordered_map<const Instruction*, Literal> values;
  std::unordered_map<const Instruction*, int> uses;
  for (const auto& in : c.instructions)
    for (const Instruction* o : in->operands) ++uses[o];
  for (const auto& in : c.instructions) {
    if (in->opcode == Opcode::kParameter) {
      values[in.get()] = *args[static_cast<size_t>(in->parameter_number)];
      continue;
    }
    std::vector<const Literal*> ops;
    for (const Instruction* o : in->operands) ops.push_back(&values.at(o));
    PJIT_ASSIGN_OR_RETURN(Literal v, Eval(*in, ops));
    values[in.get()] = std::move(v);
    // Drop values nobody reads any more, so long programs keep a small footprint.
    for (const Instruction* o : in->operands)
      if (--uses[o] == 0 && o != c.root) values.erase(o);
  }
  return std::move(values.at(c.root));
}

StatusOr<Literal> Evaluator::CallScalars(const Computation& c, const std::vector<Literal>& scalars) {
  std::vector<const Literal*> args;
  for (const Literal& s : scalars) args.push_back(&s);
  return Call(c, args);
}

Literal Evaluator::BitcastConvert(const Instruction& in, const Literal& x) {
  Literal out(in.shape);
  std::memcpy(out.bytes().data(), x.bytes().data(), out.bytes().size());
  return out;
}

Literal Evaluator::Iota(const Instruction& in) {
  Literal out(in.shape);
  int64_t dim = in.dimensions[0];
  ForEachIndex(in.shape.dims, [&](const std::vector<int64_t>& idx, int64_t linear) {
    out.SetFromDouble(linear, static_cast<double>(idx[dim]));
  });
  return out;
}

Literal Evaluator::Broadcast(const Instruction& in, const Literal& x) {
  Literal out(in.shape);
  size_t size = static_cast<size_t>(DTypeByteSize(in.shape.dtype));
  std::vector<int64_t> strides = RowMajorStrides(x.shape().dims);
  ForEachIndex(in.shape.dims, [&](const std::vector<int64_t>& idx, int64_t linear) {
    int64_t from = 0;
    for (size_t i = 0; i < in.dimensions.size(); ++i) from += idx[in.dimensions[i]] * strides[i];
    CopyElement(x, from, out, linear, size);
  });
  return out;
}

// out dim i is x's dim permutation[i].
static Literal Permuted(const Literal& x, const std::vector<int64_t>& permutation) {
  std::vector<int64_t> dims;
  for (int64_t p : permutation) dims.push_back(x.shape().dims[static_cast<size_t>(p)]);
  Literal out(Shape::Array(x.shape().dtype, dims));
  size_t size = static_cast<size_t>(DTypeByteSize(x.shape().dtype));
  std::vector<int64_t> strides = RowMajorStrides(x.shape().dims);
  ForEachIndex(dims, [&](const std::vector<int64_t>& idx, int64_t linear) {
    int64_t from = 0;
    for (size_t i = 0; i < idx.size(); ++i) from += idx[i] * strides[static_cast<size_t>(permutation[i])];
    CopyElement(x, from, out, linear, size);
  });
  return out;
}

Literal Evaluator::Transpose(const Instruction& in, const Literal& x) { return Permuted(x, in.dimensions); }

// The operand's bytes in its memory order, read in the result's: both orders come from the
// layouts (MajorToMinor), row-major where there are none.
Literal Evaluator::Bitcast(const Instruction& in, const Literal& x) {
  Literal out(in.shape);
  if (IsRowMajor(in.operands[0]->shape) && IsRowMajor(in.shape)) {  // a reshape
    std::memcpy(out.bytes().data(), x.bytes().data(), out.bytes().size());
    return out;
  }
  const std::vector<int64_t> from = MajorToMinor(in.operands[0]->shape), to = MajorToMinor(in.shape);
  Literal physical = Permuted(x, from);  // row-major in the operand's memory order
  std::vector<int64_t> dims, inverse(to.size());
  for (size_t i = 0; i < to.size(); ++i) {
    dims.push_back(in.shape.dims[static_cast<size_t>(to[i])]);
    inverse[static_cast<size_t>(to[i])] = static_cast<int64_t>(i);
  }
  Literal reinterpreted(Shape::Array(in.shape.dtype, dims));
  std::memcpy(reinterpreted.bytes().data(), physical.bytes().data(), reinterpreted.bytes().size());
  Literal permuted = Permuted(reinterpreted, inverse);
  std::memcpy(out.bytes().data(), permuted.bytes().data(), out.bytes().size());
  return out;
}

Literal Evaluator::Slice(const Instruction& in, const Literal& x) {
  Literal out(in.shape);
  size_t size = static_cast<size_t>(DTypeByteSize(in.shape.dtype));
  std::vector<int64_t> strides = RowMajorStrides(x.shape().dims);
  ForEachIndex(in.shape.dims, [&](const std::vector<int64_t>& idx, int64_t linear) {
    int64_t from = 0;
    for (size_t i = 0; i < idx.size(); ++i) from += (in.slice[i].start + idx[i] * in.slice[i].stride) * strides[i];
    CopyElement(x, from, out, linear, size);
  });
  return out;
}

// Start indices clamped so that a window of `sizes` fits in `dims`, as XLA specifies.
std::vector<int64_t> ClampedStarts(const std::vector<const Literal*>& ops, size_t first,
                                   const std::vector<int64_t>& dims, const std::vector<int64_t>& sizes) {
  // One scalar per dim, or XLA's legacy packed form: one index vector.
  bool packed = ops.size() == first + 1 && ops[first]->shape().rank() == 1;
  std::vector<int64_t> starts(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t start = packed ? ops[first]->GetAsInt64(static_cast<int64_t>(i)) : ops[first + i]->GetAsInt64(0);
    starts[i] = std::clamp<int64_t>(start, 0, dims[i] - sizes[i]);
  }
  return starts;
}

Literal Evaluator::DynamicSlice(const Instruction& in, const std::vector<const Literal*>& ops) {
  const Literal& x = *ops[0];
  Literal out(in.shape);
  size_t size = static_cast<size_t>(DTypeByteSize(in.shape.dtype));
  std::vector<int64_t> starts = ClampedStarts(ops, 1, x.shape().dims, in.shape.dims);
  std::vector<int64_t> strides = RowMajorStrides(x.shape().dims);
  ForEachIndex(in.shape.dims, [&](const std::vector<int64_t>& idx, int64_t linear) {
    int64_t from = 0;
    for (size_t i = 0; i < idx.size(); ++i) from += (starts[i] + idx[i]) * strides[i];
    CopyElement(x, from, out, linear, size);
  });
  return out;
}

Literal Evaluator::DynamicUpdateSlice(const Instruction& in, const std::vector<const Literal*>& ops) {
  Literal out = *ops[0];
  const Literal& update = *ops[1];
  size_t size = static_cast<size_t>(DTypeByteSize(in.shape.dtype));
  std::vector<int64_t> starts = ClampedStarts(ops, 2, out.shape().dims, update.shape().dims);
  std::vector<int64_t> strides = RowMajorStrides(out.shape().dims);
  ForEachIndex(update.shape().dims, [&](const std::vector<int64_t>& idx, int64_t linear) {
    int64_t to = 0;
    for (size_t i = 0; i < idx.size(); ++i) to += (starts[i] + idx[i]) * strides[i];
    CopyElement(update, linear, out, to, size);
  });
  return out;
}

Literal Evaluator::Concatenate(const Instruction& in, const std::vector<const Literal*>& ops) {
  Literal out(in.shape);
  size_t size = static_cast<size_t>(DTypeByteSize(in.shape.dtype));
  int64_t dim = in.dimensions[0];
  std::vector<int64_t> strides = RowMajorStrides(in.shape.dims);
  int64_t offset = 0;
  for (const Literal* x : ops) {
    ForEachIndex(x->shape().dims, [&](const std::vector<int64_t>& idx, int64_t linear) {
      int64_t to = Dot(idx, strides) + offset * strides[dim];
      CopyElement(*x, linear, out, to, size);
    });
    offset += x->shape().dims[dim];
  }
  return out;
}

Literal Evaluator::Pad(const Instruction& in, const Literal& x, const Literal& value) {
  Literal out(in.shape);
  size_t size = static_cast<size_t>(DTypeByteSize(in.shape.dtype));
  for (int64_t i = 0; i < out.element_count(); ++i) CopyElement(value, 0, out, i, size);
  std::vector<int64_t> strides = RowMajorStrides(in.shape.dims);
  ForEachIndex(x.shape().dims, [&](const std::vector<int64_t>& idx, int64_t linear) {
    int64_t to = 0;
    for (size_t i = 0; i < idx.size(); ++i) {
      const PaddingDim& p = in.padding[i];
      int64_t pos = p.low + idx[i] * (p.interior + 1);
      if (pos < 0 || pos >= in.shape.dims[i]) return;  // cropped by negative padding
      to += pos * strides[i];
    }
    CopyElement(x, linear, out, to, size);
  });
  return out;
}

Literal Evaluator::Reverse(const Instruction& in, const Literal& x) {
  Literal out(in.shape);
  size_t size = static_cast<size_t>(DTypeByteSize(in.shape.dtype));
  std::vector<int64_t> strides = RowMajorStrides(in.shape.dims);
  ForEachIndex(in.shape.dims, [&](const std::vector<int64_t>& idx, int64_t linear) {
    std::vector<int64_t> from = idx;
    for (int64_t d : in.dimensions) from[d] = in.shape.dims[d] - 1 - idx[d];
    CopyElement(x, Dot(from, strides), out, linear, size);
  });
  return out;
}

// dot: gathers both sides into [batch, rows, contract] and [batch, contract, cols] blocks of
// double (or int64), multiplies, and rounds once into the result type.
Literal Evaluator::DotOp(const Instruction& in, const Literal& lhs, const Literal& rhs) {
  const DotDimensionNumbers& d = in.dot_dims;
  auto split = [](const Shape& s, const std::vector<int64_t>& batch, const std::vector<int64_t>& contract) {
    std::vector<int64_t> free;
    for (int64_t i = 0; i < s.rank(); ++i)
      if (std::find(batch.begin(), batch.end(), i) == batch.end() && std::find(contract.begin(), contract.end(), i) == contract.end())
        free.push_back(i);
    return free;
  };
  std::vector<int64_t> lhs_free = split(lhs.shape(), d.lhs_batch, d.lhs_contracting);
  std::vector<int64_t> rhs_free = split(rhs.shape(), d.rhs_batch, d.rhs_contracting);
  auto product = [](const Shape& s, const std::vector<int64_t>& dims) {
    int64_t p = 1;
    for (int64_t i : dims) p *= s.dims[i];
    return p;
  };
  int64_t B = product(lhs.shape(), d.lhs_batch), M = product(lhs.shape(), lhs_free);
  int64_t K = product(lhs.shape(), d.lhs_contracting), N = product(rhs.shape(), rhs_free);
  // Position of each operand element in the canonical block, from its index.
  auto flatten = [](const std::vector<int64_t>& idx, const Shape& s, const std::vector<int64_t>& dims) {
    int64_t v = 0;
    for (int64_t i : dims) v = v * s.dims[i] + idx[i];
    return v;
  };
  bool integral = !IsFloating(in.shape.dtype);
  std::vector<double> a(static_cast<size_t>(B * M * K)), b(static_cast<size_t>(B * K * N));
  ForEachIndex(lhs.shape().dims, [&](const std::vector<int64_t>& idx, int64_t linear) {
    int64_t bi = flatten(idx, lhs.shape(), d.lhs_batch), mi = flatten(idx, lhs.shape(), lhs_free), ki = flatten(idx, lhs.shape(), d.lhs_contracting);
    a[(bi * M + mi) * K + ki] = lhs.GetAsDouble(linear);
  });
  ForEachIndex(rhs.shape().dims, [&](const std::vector<int64_t>& idx, int64_t linear) {
    int64_t bi = flatten(idx, rhs.shape(), d.rhs_batch), ki = flatten(idx, rhs.shape(), d.rhs_contracting), ni = flatten(idx, rhs.shape(), rhs_free);
    b[(bi * K + ki) * N + ni] = rhs.GetAsDouble(linear);
  });
  Literal out(in.shape);
  std::vector<double> row(static_cast<size_t>(N));
  for (int64_t bi = 0; bi < B; ++bi)
    for (int64_t m = 0; m < M; ++m) {
      std::fill(row.begin(), row.end(), 0.0);
      for (int64_t k = 0; k < K; ++k) {
        double av = a[(bi * M + m) * K + k];
        const double* bp = &b[(bi * K + k) * N];
        for (int64_t n = 0; n < N; ++n) row[n] += av * bp[n];
      }
      for (int64_t n = 0; n < N; ++n) {
        double v = row[n];
        if (integral && in.shape.dtype != DType::kPred) v = std::trunc(v);
        out.SetFromDouble((bi * M + m) * N + n, v);
      }
    }
  return out;
}

Literal Evaluator::Convolution(const Instruction& in, const Literal& x, const Literal& k) {
  const ConvolutionDimensionNumbers& d = in.conv_dims;
  size_t ns = d.input_spatial.size();
  std::vector<WindowDimension> window = in.window;
  if (window.empty()) window.resize(ns);
  const Shape& xs = x.shape();
  const Shape& ks = k.shape();
  int64_t fg = in.feature_group_count, bg = in.batch_group_count;
  int64_t in_features_per_group = ks.dims[d.kernel_input_feature];
  int64_t out_features = ks.dims[d.kernel_output_feature];
  int64_t out_per_fgroup = out_features / fg, out_per_bgroup = out_features / bg;
  int64_t batch_per_group = xs.dims[d.input_batch] / bg;
  std::vector<int64_t> xstr = RowMajorStrides(xs.dims), kstr = RowMajorStrides(ks.dims);
  std::vector<int64_t> kernel_spatial_dims;
  for (size_t i = 0; i < ns; ++i) kernel_spatial_dims.push_back(ks.dims[d.kernel_spatial[i]]);
  Literal out(in.shape);
  std::vector<int64_t> xi(xs.dims.size()), ki(ks.dims.size());
  ForEachIndex(in.shape.dims, [&](const std::vector<int64_t>& oi, int64_t linear) {
    int64_t o = oi[d.output_feature];
    int64_t fgroup = o / out_per_fgroup, bgroup = o / out_per_bgroup;
    xi[d.input_batch] = bgroup * batch_per_group + oi[d.output_batch];
    ki[d.kernel_output_feature] = o;
    double sum = 0;
    ForEachIndex(kernel_spatial_dims, [&](const std::vector<int64_t>& w, int64_t) {
      for (size_t s = 0; s < ns; ++s) {
        const WindowDimension& wd = window[s];
        int64_t kpos = wd.window_reversal ? wd.size - 1 - w[s] : w[s];
        int64_t pos = oi[d.output_spatial[s]] * wd.stride - wd.padding_low + w[s] * wd.window_dilation;
        if (pos < 0 || pos % wd.base_dilation) return;
        pos /= wd.base_dilation;
        if (pos >= xs.dims[d.input_spatial[s]]) return;
        xi[d.input_spatial[s]] = pos;
        ki[d.kernel_spatial[s]] = kpos;
      }
      for (int64_t c = 0; c < in_features_per_group; ++c) {
        xi[d.input_feature] = fgroup * in_features_per_group + c;
        ki[d.kernel_input_feature] = c;
        sum += x.GetAsDouble(Dot(xi, xstr)) * k.GetAsDouble(Dot(ki, kstr));
      }
    });
    out.SetFromDouble(linear, sum);
  });
  return out;
}

// Full index into an indices array for one batch position (index_vector_dim inserted).
std::vector<int64_t> IndexVector(const Literal& indices, const std::vector<int64_t>& batch_index,
                                 int64_t index_vector_dim, const std::vector<int64_t>& strides) {
  const Shape& s = indices.shape();
  std::vector<int64_t> full(static_cast<size_t>(s.rank()), 0);
  size_t b = 0;
  for (int64_t i = 0; i < s.rank(); ++i)
    if (i != index_vector_dim) full[i] = batch_index[b++];
  int64_t len = index_vector_dim < s.rank() ? s.dims[index_vector_dim] : 1;
  std::vector<int64_t> out(static_cast<size_t>(len));
  for (int64_t k = 0; k < len; ++k) {
    if (index_vector_dim < s.rank()) full[index_vector_dim] = k;
    out[k] = indices.GetAsInt64(Dot(full, strides));
  }
  return out;
}

Literal Evaluator::Gather(const Instruction& in, const Literal& operand, const Literal& indices) {
  const GatherDimensionNumbers& g = in.gather_dims;
  const Shape& os = operand.shape();
  Literal out(in.shape);
  size_t size = static_cast<size_t>(DTypeByteSize(in.shape.dtype));
  std::vector<int64_t> ostr = RowMajorStrides(os.dims), istr = RowMajorStrides(indices.shape().dims);
  std::vector<int64_t> offset_operand_dims;  // operand dims that the offset dims of the output walk
  for (int64_t i = 0; i < os.rank(); ++i)
    if (std::find(g.collapsed_slice_dims.begin(), g.collapsed_slice_dims.end(), i) == g.collapsed_slice_dims.end() &&
        std::find(g.operand_batching_dims.begin(), g.operand_batching_dims.end(), i) == g.operand_batching_dims.end())
      offset_operand_dims.push_back(i);
  // Indices dims other than index_vector_dim, in order: the output's batch dims map to them.
  std::vector<int64_t> indices_batch_dims;
  for (int64_t i = 0; i < indices.shape().rank(); ++i)
    if (i != g.index_vector_dim) indices_batch_dims.push_back(i);
  ForEachIndex(in.shape.dims, [&](const std::vector<int64_t>& oi, int64_t linear) {
    std::vector<int64_t> batch, offset;
    for (int64_t i = 0; i < static_cast<int64_t>(oi.size()); ++i) {
      if (std::find(g.offset_dims.begin(), g.offset_dims.end(), i) != g.offset_dims.end()) offset.push_back(oi[i]);
      else batch.push_back(oi[i]);
    }
    std::vector<int64_t> start(static_cast<size_t>(os.rank()), 0);
    std::vector<int64_t> vec = IndexVector(indices, batch, g.index_vector_dim, istr);
    for (size_t k = 0; k < g.start_index_map.size(); ++k) {
      int64_t dim = g.start_index_map[k];
      start[dim] = std::clamp<int64_t>(vec[k], 0, os.dims[dim] - in.slice_sizes[dim]);
    }
    for (size_t k = 0; k < g.operand_batching_dims.size(); ++k) {
      auto it = std::find(indices_batch_dims.begin(), indices_batch_dims.end(), g.start_indices_batching_dims[k]);
      start[g.operand_batching_dims[k]] = batch[static_cast<size_t>(it - indices_batch_dims.begin())];
    }
    for (size_t k = 0; k < offset_operand_dims.size(); ++k) start[offset_operand_dims[k]] += offset[k];
    CopyElement(operand, Dot(start, ostr), out, linear, size);
  });
  return out;
}

StatusOr<Literal> Evaluator::Scatter(const Instruction& in, const std::vector<const Literal*>& ops) {
  size_t n = (ops.size() - 1) / 2;
  const ScatterDimensionNumbers& s = in.scatter_dims;
  const Literal& indices = *ops[n];
  std::vector<Literal> outs;
  for (size_t i = 0; i < n; ++i) outs.push_back(*ops[i]);
  const Shape& os = outs[0].shape();
  const Shape& us = ops[n + 1]->shape();
  std::vector<int64_t> ostr = RowMajorStrides(os.dims), istr = RowMajorStrides(indices.shape().dims);
  std::vector<int64_t> window_operand_dims;
  for (int64_t i = 0; i < os.rank(); ++i)
    if (std::find(s.inserted_window_dims.begin(), s.inserted_window_dims.end(), i) == s.inserted_window_dims.end() &&
        std::find(s.input_batching_dims.begin(), s.input_batching_dims.end(), i) == s.input_batching_dims.end())
      window_operand_dims.push_back(i);
  std::vector<int64_t> indices_batch_dims;
  for (int64_t i = 0; i < indices.shape().rank(); ++i)
    if (i != s.index_vector_dim) indices_batch_dims.push_back(i);
  // Size of the update window along each operand dim, to skip windows that do not fit.
  std::vector<int64_t> window_size(static_cast<size_t>(os.rank()), 1);
  for (size_t k = 0; k < window_operand_dims.size(); ++k) window_size[window_operand_dims[k]] = us.dims[s.update_window_dims[k]];
  std::optional<Opcode> reducer = n == 1 ? SimpleReducer(*in.called[0]) : std::nullopt;
  bool simple = reducer.has_value();
  Opcode simple_op = reducer.value_or(Opcode::kAdd);  // a plain value for the lambdas below
  const Computation& combiner = *in.called[0];
  bool assign = n == 1 && combiner.root == combiner.parameters[1];
  Status status;
  ForEachIndex(us.dims, [&](const std::vector<int64_t>& ui, int64_t linear) {
    if (!status.ok()) return;
    std::vector<int64_t> scatter, window;
    for (int64_t i = 0; i < us.rank(); ++i) {
      if (std::find(s.update_window_dims.begin(), s.update_window_dims.end(), i) != s.update_window_dims.end()) window.push_back(ui[i]);
      else scatter.push_back(ui[i]);
    }
    std::vector<int64_t> start(static_cast<size_t>(os.rank()), 0);
    std::vector<int64_t> vec = IndexVector(indices, scatter, s.index_vector_dim, istr);
    for (size_t k = 0; k < s.scatter_dims_to_operand_dims.size(); ++k) start[s.scatter_dims_to_operand_dims[k]] = vec[k];
    for (size_t k = 0; k < s.input_batching_dims.size(); ++k) {
      auto it = std::find(indices_batch_dims.begin(), indices_batch_dims.end(), s.scatter_indices_batching_dims[k]);
      start[s.input_batching_dims[k]] = scatter[static_cast<size_t>(it - indices_batch_dims.begin())];
    }
    for (int64_t d = 0; d < os.rank(); ++d)
      if (start[d] < 0 || start[d] > os.dims[d] - window_size[d]) return;  // out of bounds: skipped
    for (size_t k = 0; k < window_operand_dims.size(); ++k) start[window_operand_dims[k]] += window[k];
    int64_t to = Dot(start, ostr);
    if (assign) {
      CopyElement(*ops[n + 1], linear, outs[0], to, static_cast<size_t>(DTypeByteSize(os.dtype)));
    } else if (simple) {
      VisitDType(os.dtype, [&]<typename T>() {
        outs[0].data<T>()[to] = ApplyBinary<T>(simple_op, outs[0].data<T>()[to], ops[n + 1]->data<T>()[linear]);
      });
    } else {
      std::vector<Literal> args;
      for (size_t i = 0; i < n; ++i) args.push_back(ScalarFrom(outs[i], to));
      for (size_t i = 0; i < n; ++i) args.push_back(ScalarFrom(*ops[n + 1 + i], linear));
      StatusOr<Literal> r = CallScalars(combiner, args);
      if (!r.ok()) { status = r.status(); return; }
      for (size_t i = 0; i < n; ++i) {
        const Literal& v = n == 1 ? *r : r->elements()[i];
        CopyElement(v, 0, outs[i], to, static_cast<size_t>(DTypeByteSize(outs[i].shape().dtype)));
      }
    }
  });
  PJIT_RETURN_IF_ERROR(status);
  return n == 1 ? std::move(outs[0]) : Literal::Tuple(std::move(outs));
}

StatusOr<Literal> Evaluator::Reduce(const Instruction& in, const std::vector<const Literal*>& ops) {
  size_t n = ops.size() / 2;
  const Shape& is = ops[0]->shape();
  std::vector<int64_t> out_dims;
  std::vector<bool> reduced(static_cast<size_t>(is.rank()), false);
  for (int64_t d : in.dimensions) reduced[d] = true;
  for (int64_t i = 0; i < is.rank(); ++i)
    if (!reduced[i]) out_dims.push_back(is.dims[i]);
  std::vector<int64_t> out_strides = RowMajorStrides(out_dims);
  std::vector<int64_t> stride_in_out(static_cast<size_t>(is.rank()), 0);  // input dim → output stride
  for (int64_t i = 0, o = 0; i < is.rank(); ++i)
    if (!reduced[i]) stride_in_out[i] = out_strides[o++];
  std::vector<Literal> outs;
  for (size_t i = 0; i < n; ++i) {
    Literal acc(Shape::Array(ops[i]->shape().dtype, out_dims));
    size_t size = static_cast<size_t>(DTypeByteSize(acc.shape().dtype));
    for (int64_t k = 0; k < acc.element_count(); ++k) CopyElement(*ops[n + i], 0, acc, k, size);
    outs.push_back(std::move(acc));
  }
  std::optional<Opcode> reducer = n == 1 ? SimpleReducer(*in.called[0]) : std::nullopt;
  if (reducer) {
    Opcode simple_op = *reducer;
    VisitDType(is.dtype, [&]<typename T>() {
      T* acc = outs[0].data<T>();
      const T* x = ops[0]->data<T>();
      ForEachIndex(is.dims, [&](const std::vector<int64_t>& idx, int64_t linear) {
        int64_t o = Dot(idx, stride_in_out);
        acc[o] = ApplyBinary<T>(simple_op, acc[o], x[linear]);
      });
    });
  } else {
    Status status;
    ForEachIndex(is.dims, [&](const std::vector<int64_t>& idx, int64_t linear) {
      if (!status.ok()) return;
      int64_t o = Dot(idx, stride_in_out);
      std::vector<Literal> args;
      for (size_t i = 0; i < n; ++i) args.push_back(ScalarFrom(outs[i], o));
      for (size_t i = 0; i < n; ++i) args.push_back(ScalarFrom(*ops[i], linear));
      StatusOr<Literal> r = CallScalars(*in.called[0], args);
      if (!r.ok()) { status = r.status(); return; }
      for (size_t i = 0; i < n; ++i)
        CopyElement(n == 1 ? *r : r->elements()[i], 0, outs[i], o, static_cast<size_t>(DTypeByteSize(outs[i].shape().dtype)));
    });
    PJIT_RETURN_IF_ERROR(status);
  }
  return n == 1 ? std::move(outs[0]) : Literal::Tuple(std::move(outs));
}

// Calls f(input linear index) for every in-bounds input element of the window at `oi`.
template <typename F>
void ForEachWindowElement(const std::vector<WindowDimension>& window, const std::vector<int64_t>& in_dims,
                          const std::vector<int64_t>& in_strides, const std::vector<int64_t>& oi, F&& f) {
  std::vector<int64_t> sizes;
  for (const WindowDimension& w : window) sizes.push_back(w.size);
  ForEachIndex(sizes, [&](const std::vector<int64_t>& wi, int64_t) {
    int64_t linear = 0;
    for (size_t d = 0; d < window.size(); ++d) {
      const WindowDimension& w = window[d];
      int64_t pos = oi[d] * w.stride - w.padding_low + wi[d] * w.window_dilation;
      if (pos < 0 || pos % w.base_dilation) return;
      pos /= w.base_dilation;
      if (pos >= in_dims[d]) return;
      linear += pos * in_strides[d];
    }
    f(linear);
  });
}

StatusOr<Literal> Evaluator::ReduceWindow(const Instruction& in, const std::vector<const Literal*>& ops) {
  size_t n = ops.size() / 2;
  const Shape& is = ops[0]->shape();
  std::vector<int64_t> in_strides = RowMajorStrides(is.dims);
  std::vector<Literal> outs;
  for (size_t i = 0; i < n; ++i)
    outs.emplace_back(n == 1 ? in.shape : in.shape.tuple_shapes[i]);
  std::optional<Opcode> reducer = n == 1 ? SimpleReducer(*in.called[0]) : std::nullopt;
  bool simple = reducer.has_value();
  Opcode simple_op = reducer.value_or(Opcode::kAdd);
  Status status;
  ForEachIndex(outs[0].shape().dims, [&](const std::vector<int64_t>& oi, int64_t o) {
    if (!status.ok()) return;
    for (size_t i = 0; i < n; ++i) CopyElement(*ops[n + i], 0, outs[i], o, static_cast<size_t>(DTypeByteSize(outs[i].shape().dtype)));
    ForEachWindowElement(in.window, is.dims, in_strides, oi, [&](int64_t linear) {
      if (!status.ok()) return;
      if (simple) {
        VisitDType(is.dtype, [&]<typename T>() {
          outs[0].data<T>()[o] = ApplyBinary<T>(simple_op, outs[0].data<T>()[o], ops[0]->data<T>()[linear]);
        });
        return;
      }
      std::vector<Literal> args;
      for (size_t i = 0; i < n; ++i) args.push_back(ScalarFrom(outs[i], o));
      for (size_t i = 0; i < n; ++i) args.push_back(ScalarFrom(*ops[i], linear));
      StatusOr<Literal> r = CallScalars(*in.called[0], args);
      if (!r.ok()) { status = r.status(); return; }
      for (size_t i = 0; i < n; ++i)
        CopyElement(n == 1 ? *r : r->elements()[i], 0, outs[i], o, static_cast<size_t>(DTypeByteSize(outs[i].shape().dtype)));
    });
  });
  PJIT_RETURN_IF_ERROR(status);
  return n == 1 ? std::move(outs[0]) : Literal::Tuple(std::move(outs));
}

StatusOr<Literal> Evaluator::SelectAndScatter(const Instruction& in, const std::vector<const Literal*>& ops) {
  const Literal& operand = *ops[0];
  const Literal& source = *ops[1];
  Literal out(in.shape);
  size_t size = static_cast<size_t>(DTypeByteSize(in.shape.dtype));
  for (int64_t i = 0; i < out.element_count(); ++i) CopyElement(*ops[2], 0, out, i, size);
  std::vector<int64_t> strides = RowMajorStrides(operand.shape().dims);
  Status status;
  ForEachIndex(source.shape().dims, [&](const std::vector<int64_t>& si, int64_t s) {
    if (!status.ok()) return;
    std::optional<int64_t> chosen;
    ForEachWindowElement(in.window, operand.shape().dims, strides, si, [&](int64_t linear) {
      if (!status.ok()) return;
      if (!chosen) { chosen = linear; return; }
      StatusOr<Literal> keep = CallScalars(*in.called[0], {ScalarFrom(operand, *chosen), ScalarFrom(operand, linear)});
      if (!keep.ok()) { status = keep.status(); return; }
      if (!keep->Get<bool>(0)) chosen = linear;
    });
    if (!chosen) return;
    StatusOr<Literal> r = CallScalars(*in.called[1], {ScalarFrom(out, *chosen), ScalarFrom(source, s)});
    if (!r.ok()) { status = r.status(); return; }
    CopyElement(*r, 0, out, *chosen, size);
  });
  PJIT_RETURN_IF_ERROR(status);
  return out;
}

StatusOr<Literal> Evaluator::Map(const Instruction& in, const std::vector<const Literal*>& ops) {
  Literal out(in.shape);
  size_t size = static_cast<size_t>(DTypeByteSize(in.shape.dtype));
  for (int64_t i = 0; i < out.element_count(); ++i) {
    std::vector<Literal> args;
    for (const Literal* o : ops) args.push_back(ScalarFrom(*o, i));
    PJIT_ASSIGN_OR_RETURN(Literal r, CallScalars(*in.called[0], args));
    CopyElement(r, 0, out, i, size);
  }
  return out;
}

StatusOr<Literal> Evaluator::Sort(const Instruction& in, const std::vector<const Literal*>& ops) {
  const Shape& s = ops[0]->shape();
  int64_t dim = in.dimensions[0];
  int64_t len = s.dims[dim];
  std::vector<int64_t> strides = RowMajorStrides(s.dims);
  std::vector<int64_t> outer = s.dims;
  outer[dim] = 1;
  std::vector<Literal> outs;
  for (const Literal* o : ops) outs.push_back(*o);
  const Computation& cmp = *in.called[0];
  // Fast path: comparator `ROOT compare(p0, p1)` on a single operand.
  const Instruction* root = cmp.root;
  bool simple = ops.size() == 1 && root->opcode == Opcode::kCompare && root->operands[0] == cmp.parameters[0] &&
                root->operands[1] == cmp.parameters[1];
  Status status;
  ForEachIndex(outer, [&](const std::vector<int64_t>& oi, int64_t) {
    if (!status.ok()) return;
    int64_t base = Dot(oi, strides);
    std::vector<int64_t> order(static_cast<size_t>(len));
    std::iota(order.begin(), order.end(), 0);
    auto less = [&](int64_t a, int64_t b) -> bool {
      if (!status.ok()) return false;
      int64_t ia = base + a * strides[dim], ib = base + b * strides[dim];
      if (simple) {
        return VisitDType(s.dtype, [&]<typename T>() {
          return ApplyCompare<T>(root->comparison_direction, root->comparison_type == ComparisonType::kTotalOrder,
                                 ops[0]->data<T>()[ia], ops[0]->data<T>()[ib]);
        });
      }
      std::vector<Literal> args;
      for (const Literal* o : ops) {
        args.push_back(ScalarFrom(*o, ia));
        args.push_back(ScalarFrom(*o, ib));
      }
      StatusOr<Literal> r = CallScalars(cmp, args);
      if (!r.ok()) { status = r.status(); return false; }
      return r->Get<bool>(0);
    };
    std::stable_sort(order.begin(), order.end(), less);
    for (size_t k = 0; k < ops.size(); ++k) {
      size_t size = static_cast<size_t>(DTypeByteSize(ops[k]->shape().dtype));
      for (int64_t i = 0; i < len; ++i) CopyElement(*ops[k], base + order[i] * strides[dim], outs[k], base + i * strides[dim], size);
    }
  });
  PJIT_RETURN_IF_ERROR(status);
  return ops.size() == 1 ? std::move(outs[0]) : Literal::Tuple(std::move(outs));
}

// Several devices meet at the rendezvous; a single device's groups must be itself alone.
StatusOr<Literal> Evaluator::Collective(const Instruction& in, const std::vector<const Literal*>& ops) {
  if (options_.collectives) {
    Collectives::Reducer reduce = [this](const Instruction& instr, const Literal& a, const Literal& b) -> StatusOr<Literal> {
      return CombineArrays(instr, a, b);
    };
    return options_.collectives->Run(in, ops, options_.partition_id, reduce);
  }
  for (const auto& group : in.replica_groups.groups)
    if (group.size() > 1) return Fail(in, "unsupported: ", OpcodeName(in.opcode), " over ", group.size(), " devices in a single-device evaluation");
  if (in.opcode == Opcode::kCollectivePermute) {
    for (const auto& [source, target] : in.source_target_pairs)
      if (source != target) return Fail(in, "unsupported: collective-permute between devices in a single-device evaluation");
  }
  if (ops.size() == 1) return *ops[0];
  std::vector<Literal> elements;
  for (const Literal* o : ops) elements.push_back(*o);
  return Literal::Tuple(std::move(elements));
}

StatusOr<Literal> Evaluator::CombineArrays(const Instruction& instr, const Literal& a, const Literal& b) {
  const Computation& reducer = *instr.called[0];
  Literal out = a;
  if (std::optional<Opcode> simple = SimpleReducer(reducer)) {
    Opcode op = *simple;
    VisitDType(a.shape().dtype, [&]<typename T>() {
      for (int64_t i = 0; i < out.element_count(); ++i) out.data<T>()[i] = ApplyBinary<T>(op, a.data<T>()[i], b.data<T>()[i]);
    });
    return out;
  }
  size_t size = static_cast<size_t>(DTypeByteSize(a.shape().dtype));
  for (int64_t i = 0; i < out.element_count(); ++i) {
    PJIT_ASSIGN_OR_RETURN(Literal r, CallScalars(reducer, {ScalarFrom(a, i), ScalarFrom(b, i)}));
    CopyElement(r, 0, out, i, size);
  }
  return out;
}

StatusOr<Literal> Evaluator::Eval(const Instruction& in, const std::vector<const Literal*>& ops) {
  using O = Opcode;
  if (IsElementwiseEvaluable(in.opcode)) return EvaluateElementwise(in, ops);
  switch (in.opcode) {
    case O::kConstant: return in.literal;
    case O::kIota: return Iota(in);
    case O::kPartitionId: return Literal::Scalar<uint32_t>(DType::kU32, static_cast<uint32_t>(options_.partition_id));
    case O::kReplicaId: return Literal::Scalar<uint32_t>(DType::kU32, static_cast<uint32_t>(options_.replica_id));
    case O::kAfterAll: return Literal(Shape::Token());
    case O::kTuple: {
      std::vector<Literal> elements;
      for (const Literal* o : ops) elements.push_back(*o);
      return Literal::Tuple(std::move(elements));
    }
    case O::kGetTupleElement: return ops[0]->elements()[static_cast<size_t>(in.tuple_index)];
    case O::kCall: return Call(*in.called[0], ops);
    case O::kWhile: {
      Literal state = *ops[0];
      while (true) {
        PJIT_ASSIGN_OR_RETURN(Literal go, Call(*in.called[0], {&state}));
        if (!go.Get<bool>(0)) return state;
        PJIT_ASSIGN_OR_RETURN(state, Call(*in.called[1], {&state}));
      }
    }
    case O::kConditional: {
      int64_t n = static_cast<int64_t>(in.called.size());
      int64_t branch;
      if (ops[0]->shape().dtype == DType::kPred) branch = ops[0]->Get<bool>(0) ? 0 : 1;
      else branch = ops[0]->GetAsInt64(0);
      if (branch < 0 || branch >= n) branch = n - 1;  // out-of-range index runs the last branch
      return Call(*in.called[static_cast<size_t>(branch)], {ops[static_cast<size_t>(branch) + 1]});
    }
    case O::kCustomCall: {
      const std::string& t = in.custom_call_target;
      bool identity = t == "Sharding" || t == "SPMDFullToShardShape" || t == "SPMDShardToFullShape" || t == "xla.sdy.FuncResultSharding";
      if (identity && ops.size() == 1 && ops[0]->shape().Compatible(in.shape)) return *ops[0];
      return Fail(in, "unsupported: custom-call target \"", t, "\"");
    }
    case O::kOptimizationBarrier: case O::kAddDependency: case O::kCopy: return *ops[0];
    case O::kBroadcast: return Broadcast(in, *ops[0]);
    case O::kBitcast: return Bitcast(in, *ops[0]);
    case O::kReshape: {
      Literal out(in.shape);
      std::memcpy(out.bytes().data(), ops[0]->bytes().data(), out.bytes().size());
      return out;
    }
    case O::kTranspose: return Transpose(in, *ops[0]);
    case O::kBitcastConvert: return BitcastConvert(in, *ops[0]);
    case O::kReducePrecision: {
      // Round the mantissa to nearest even and clamp the exponent, via float bits.
      Literal out = *ops[0];
      for (int64_t i = 0; i < out.element_count(); ++i) {
        double v = out.GetAsDouble(i);
        if (std::isfinite(v) && v != 0) {
          int e;
          double m = std::frexp(v, &e);
          m = std::nearbyint(std::ldexp(m, static_cast<int>(in.mantissa_bits) + 1));
          v = std::ldexp(m, e - static_cast<int>(in.mantissa_bits) - 1);
          int64_t max_exp = (int64_t{1} << (in.exponent_bits - 1)) - 1;
          if (e - 1 > max_exp) v = v > 0 ? INFINITY : -INFINITY;
          else if (e - 1 < 1 - max_exp) v = v > 0 ? 0.0 : -0.0;
        }
        out.SetFromDouble(i, v);
      }
      return out;
    }
    case O::kSlice: return Slice(in, *ops[0]);
    case O::kDynamicSlice: return DynamicSlice(in, ops);
    case O::kDynamicUpdateSlice: return DynamicUpdateSlice(in, ops);
    case O::kConcatenate: return Concatenate(in, ops);
    case O::kPad: return Pad(in, *ops[0], *ops[1]);
    case O::kReverse: return Reverse(in, *ops[0]);
    case O::kGather: return Gather(in, *ops[0], *ops[1]);
    case O::kScatter: return Scatter(in, ops);
    case O::kDot: return DotOp(in, *ops[0], *ops[1]);
    case O::kConvolution: return Convolution(in, *ops[0], *ops[1]);
    case O::kReduce: return Reduce(in, ops);
    case O::kReduceWindow: return ReduceWindow(in, ops);
    case O::kSelectAndScatter: return SelectAndScatter(in, ops);
    case O::kMap: return Map(in, ops);
    case O::kSort: return Sort(in, ops);
    case O::kAllReduce: case O::kAllGather: case O::kReduceScatter: case O::kAllToAll: case O::kCollectivePermute:
      return Collective(in, ops);
    default:
      return Fail(in, "unsupported: evaluating ", OpcodeName(in.opcode));
  }
}

}  // namespace

StatusOr<Literal> EvaluateModule(const Module& module, const std::vector<Literal>& arguments,
                                 const EvaluationOptions& options) {
  const Computation& entry = *module.entry;
  if (arguments.size() != entry.parameters.size())
    return InvalidArgument("module '", module.name, "' takes ", entry.parameters.size(), " arguments, got ", arguments.size());
  std::vector<const Literal*> args;
  for (size_t i = 0; i < arguments.size(); ++i) {
    const Shape& want = entry.parameters[i]->shape;
    if (!arguments[i].shape().Compatible(want))
      return InvalidArgument("argument ", i, " (", entry.parameters[i]->name, ") is ", arguments[i].shape().ToString(false), ", expected ", want.ToString(false));
    args.push_back(&arguments[i]);
  }
  try {
    return Evaluator(options).Call(entry, args);
  } catch (const std::bad_alloc&) {
    return Internal("out of memory evaluating module '", module.name, "'");
  }
}

StatusOr<Literal> EvaluateInstruction(const Instruction& instr, const std::vector<const Literal*>& operands,
                                      const EvaluationOptions& options) {
  if (operands.size() != instr.operands.size())
    return InvalidArgument(instr.name, " takes ", instr.operands.size(), " operands, got ", operands.size());
  for (size_t i = 0; i < operands.size(); ++i)
    if (!operands[i]->shape().Compatible(instr.operands[i]->shape))
      return InvalidArgument(instr.name, ": operand ", i, " is ", operands[i]->shape().ToString(false), ", expected ",
                             instr.operands[i]->shape.ToString(false));
  try {
    return Evaluator(options).Eval(instr, operands);
  } catch (const std::bad_alloc&) {
    return Internal("out of memory evaluating ", instr.name);
  }
}

StatusOr<std::vector<Literal>> EvaluateSpmd(const Module& module, const std::vector<std::vector<Literal>>& arguments,
                                            int64_t timeout_ms) {
  return EvaluateSpmd(std::vector<const Module*>(arguments.size(), &module), arguments, timeout_ms);
}

StatusOr<std::vector<Literal>> EvaluateSpmd(const std::vector<const Module*>& programs,
                                            const std::vector<std::vector<Literal>>& arguments, int64_t timeout_ms) {
  int64_t n = static_cast<int64_t>(arguments.size());
  if (n < 1) return InvalidArgument("an SPMD evaluation needs at least one device");
  if (programs.size() != arguments.size()) return InvalidArgument(programs.size(), " programs for ", n, " devices");
  Collectives collectives(n, std::chrono::milliseconds(timeout_ms));
  std::vector<std::optional<StatusOr<Literal>>> results(static_cast<size_t>(n));
  std::vector<std::thread> threads;
  for (int64_t d = 0; d < n; ++d)
    threads.emplace_back([&, d] {
      EvaluationOptions options;
      options.partition_id = d;
      options.collectives = &collectives;
      results[static_cast<size_t>(d)] = EvaluateModule(*programs[static_cast<size_t>(d)], arguments[static_cast<size_t>(d)], options);
    });
  for (std::thread& t : threads) t.join();
  std::vector<Literal> out;
  for (int64_t d = 0; d < n; ++d) {
    StatusOr<Literal>& r = *results[static_cast<size_t>(d)];
    if (!r.ok()) return Status(r.status().code(), StrCat("device ", d, ": ", r.status().message()));
    out.push_back(std::move(*r));
  }
  return out;
}

std::vector<Literal> FlattenResult(Literal result) {
  if (!result.shape().IsTuple()) return {std::move(result)};
  std::vector<Literal> out;
  for (Literal& e : result.elements())
    for (Literal& leaf : FlattenResult(std::move(e))) out.push_back(std::move(leaf));
  return out;
}

}  // namespace pjit
