// The per-opcode attributes of an HLO instruction, as plain structs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "format/iota_tile_assignment.h"

namespace pjit {

struct SliceDim {
  int64_t start = 0, limit = 0, stride = 1;
  bool operator==(const SliceDim&) const = default;
};

struct PaddingDim {
  int64_t low = 0, high = 0, interior = 0;
  bool operator==(const PaddingDim&) const = default;
};

struct DotDimensionNumbers {
  std::vector<int64_t> lhs_batch, rhs_batch, lhs_contracting, rhs_contracting;
  bool operator==(const DotDimensionNumbers&) const = default;
};

struct WindowDimension {
  int64_t size = 1, stride = 1, padding_low = 0, padding_high = 0;
  int64_t window_dilation = 1, base_dilation = 1;
  bool window_reversal = false;
  bool operator==(const WindowDimension&) const = default;
};

// dim_labels=b01f_01io->b01f: positions of batch/feature/spatial dims of input, kernel, output.
struct ConvolutionDimensionNumbers {
  int64_t input_batch = 0, input_feature = 0;
  std::vector<int64_t> input_spatial;
  int64_t kernel_input_feature = 0, kernel_output_feature = 0;
  std::vector<int64_t> kernel_spatial;
  int64_t output_batch = 0, output_feature = 0;
  std::vector<int64_t> output_spatial;
  bool operator==(const ConvolutionDimensionNumbers&) const = default;
};

struct GatherDimensionNumbers {
  std::vector<int64_t> offset_dims, collapsed_slice_dims, start_index_map;
  std::vector<int64_t> operand_batching_dims, start_indices_batching_dims;
  int64_t index_vector_dim = 0;
  bool operator==(const GatherDimensionNumbers&) const = default;
};

struct ScatterDimensionNumbers {
  std::vector<int64_t> update_window_dims, inserted_window_dims, scatter_dims_to_operand_dims;
  std::vector<int64_t> input_batching_dims, scatter_indices_batching_dims;
  int64_t index_vector_dim = 0;
  bool operator==(const ScatterDimensionNumbers&) const = default;
};

enum class ComparisonDirection { kEq, kNe, kLt, kLe, kGt, kGe };
enum class ComparisonType { kDefault, kFloat, kTotalOrder, kSigned, kUnsigned };

// replica_groups={{0,1},{2,3}} or the iota form replica_groups=[2,2]<=[4].
struct ReplicaGroups {
  std::vector<std::vector<int64_t>> groups;
  std::optional<IotaTileAssignment> iota;  // set when written in iota form
  bool operator==(const ReplicaGroups&) const = default;
};

// metadata={op_type="dot_general" op_name="jit(f)/dot" source_file="f.py" source_line=3 ...};
// keys pjit does not use are kept in order for printing.
struct OpMetadata {
  std::string op_type, op_name, source_file;
  int64_t source_line = 0;
  std::vector<std::pair<std::string, std::string>> other;
  bool empty() const { return op_type.empty() && op_name.empty() && source_file.empty() && source_line == 0 && other.empty(); }
  bool operator==(const OpMetadata&) const = default;
};

}  // namespace pjit
