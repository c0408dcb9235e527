// One HLO instruction. A plain struct: the attributes that an opcode does not use stay at
// their defaults (the parser rejects attributes that do not belong to the opcode).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "format/hlo_attributes.h"
#include "format/hlo_sharding.h"
#include "format/sharding_provenance.h"
#include "format/spmd_origin.h"
#include "format/literal.h"
#include "format/opcode.h"
#include "format/shape.h"

namespace pjit {

struct Computation;

struct Instruction {
  std::string name;
  Opcode opcode = Opcode::kParameter;
  Shape shape;
  std::vector<Instruction*> operands;
  // to_apply (call, map, reduce, reduce-window, scatter, sort, all-reduce, reduce-scatter);
  // condition, body (while); branches, true first (conditional); select, scatter
  // (select-and-scatter).
  std::vector<Computation*> called;

  // Attributes, by opcode.
  Literal literal;                      // constant
  int64_t parameter_number = 0;         // parameter
  int64_t tuple_index = 0;              // get-tuple-element
  std::vector<int64_t> dimensions;      // broadcast transpose reduce reverse concatenate iota
                                        // all-gather reduce-scatter all-to-all sort
  std::vector<SliceDim> slice;          // slice
  std::vector<int64_t> slice_sizes;     // dynamic-slice, gather
  std::vector<PaddingDim> padding;      // pad
  DotDimensionNumbers dot_dims;         // dot
  std::vector<WindowDimension> window;  // convolution reduce-window select-and-scatter
  ConvolutionDimensionNumbers conv_dims;
  int64_t feature_group_count = 1, batch_group_count = 1;
  GatherDimensionNumbers gather_dims;
  ScatterDimensionNumbers scatter_dims;
  bool indices_are_sorted = false, unique_indices = false;
  ComparisonDirection comparison_direction = ComparisonDirection::kEq;
  std::optional<ComparisonType> comparison_type;
  ReplicaGroups replica_groups;         // collectives
  std::optional<int64_t> channel_id;
  bool use_global_device_ids = false;
  bool constrain_layout = false;
  std::vector<std::pair<int64_t, int64_t>> source_target_pairs;  // collective-permute
  std::string custom_call_target;
  bool custom_call_has_side_effect = false;
  bool is_stable = false;               // sort
  int64_t exponent_bits = 0, mantissa_bits = 0;  // reduce-precision
  std::string rng_algorithm;            // rng-bit-generator: rng_default, rng_three_fry, rng_philox
  std::vector<std::string> operand_precision;  // dot, convolution

  // Kept for every opcode.
  std::optional<HloSharding> sharding;
  ShardingProvenance sharding_provenance;
  OpMetadata metadata;
  std::string frontend_attributes;      // verbatim "{...}"
  std::string backend_config;           // verbatim, quoted string or "{...}"
  // Attributes with no effect on semantics that pjit carries verbatim (api_version,
  // output_to_operand_aliasing, ...), in input order.
  std::vector<std::pair<std::string, std::string>> opaque_attributes;

  // Where the instruction was defined in its source text ("file:line:col"), for messages.
  std::string location;
  // Per-device programs only: the global instruction this one partitions.
  SpmdOrigin spmd_origin;

  const Instruction* operand(size_t i) const { return operands[i]; }
};

}  // namespace pjit
