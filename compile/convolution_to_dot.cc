#include "compile/convolution_to_dot.h"

#include "compile/instruction_rewrite.h"

namespace pjit {
namespace {

// The dot (and transposes) computing dot-like convolution `conv`, inserted by `b`.
Instruction* AsDot(const Instruction& conv, InstructionInserter& b) {
  Instruction* input = conv.operands[0];
  Instruction* kernel = conv.operands[1];
  const ConvolutionDimensionNumbers& d = conv.conv_dims;
  const int64_t rank = input->shape.rank();
  // The input's other dims in order, then its feature dim; where each lands in the product.
  std::vector<int64_t> lhs_order, position(static_cast<size_t>(rank));
  for (int64_t i = 0; i < rank; ++i)
    if (i != d.input_feature) position[static_cast<size_t>(i)] = static_cast<int64_t>(lhs_order.size()), lhs_order.push_back(i);
  lhs_order.push_back(d.input_feature);
  Instruction* lhs = IsIdentityPermutation(lhs_order) ? input : b.Transpose(input, lhs_order, "lhs");
  const int64_t ki = d.kernel_input_feature, ko = d.kernel_output_feature;
  const int64_t in_features = kernel->shape.dims[static_cast<size_t>(ki)], out_features = kernel->shape.dims[static_cast<size_t>(ko)];
  Shape rhs_shape = Shape::Array(kernel->shape.dtype, ki < ko ? std::vector<int64_t>{in_features, out_features}
                                                              : std::vector<int64_t>{out_features, in_features});
  Instruction* rhs = kernel->shape == rhs_shape ? kernel : b.Add(Opcode::kReshape, rhs_shape, {kernel}, "rhs");
  std::vector<int64_t> product_dims;
  for (size_t i = 0; i + 1 < lhs_order.size(); ++i) product_dims.push_back(input->shape.dims[static_cast<size_t>(lhs_order[i])]);
  product_dims.push_back(out_features);
  Instruction* dot = b.Add(Opcode::kDot, Shape::Array(conv.shape.dtype, product_dims), {lhs, rhs}, "dot");
  dot->dot_dims.lhs_contracting = {rank - 1};
  dot->dot_dims.rhs_contracting = {ki < ko ? 0 : 1};
  dot->operand_precision = conv.operand_precision;
  // The convolution's output order: batch, spatial dims and feature where its labels say.
  std::vector<int64_t> output_order(static_cast<size_t>(rank));
  output_order[static_cast<size_t>(d.output_batch)] = position[static_cast<size_t>(d.input_batch)];
  for (size_t s = 0; s < d.output_spatial.size(); ++s)
    output_order[static_cast<size_t>(d.output_spatial[s])] = position[static_cast<size_t>(d.input_spatial[s])];
  output_order[static_cast<size_t>(d.output_feature)] = rank - 1;
  return IsIdentityPermutation(output_order) ? dot : b.Transpose(dot, output_order, "out");
}

}  // namespace

bool IsDotLikeConvolution(const Instruction& in) {
  if (in.opcode != Opcode::kConvolution || in.feature_group_count != 1 || in.batch_group_count != 1) return false;
  for (const WindowDimension& w : in.window)
    if (w.size != 1 || w.stride != 1 || w.padding_low || w.padding_high || w.window_dilation != 1 || w.base_dilation != 1) return false;
  const DType t = in.shape.dtype;
  return (t == DType::kF32 || t == DType::kF64 || t == DType::kBF16) && in.operands[0]->shape.dtype == t &&
         in.operands[1]->shape.dtype == t;
}

int64_t RewriteDotLikeConvolutions(Computation& c) {
  return RewriteInstructions(c, [](Instruction& in, InstructionInserter& b) { return IsDotLikeConvolution(in) ? AsDot(in, b) : nullptr; });
}

}  // namespace pjit
