// Field-by-field comparison of two modules, for round-trip tests (text and artifact).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "format/hlo_module.h"

namespace pjit::testing {

template <typename T>
std::vector<std::string> Names(const std::vector<T*>& v) {
  std::vector<std::string> out;
  for (const T* x : v) out.push_back(x ? x->name : "");
  return out;
}

inline void ExpectSameInstruction(const Instruction& a, const Instruction& b) {
  SCOPED_TRACE(a.name);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.opcode, b.opcode);
  EXPECT_EQ(a.shape, b.shape);
  EXPECT_EQ(Names(a.operands), Names(b.operands));
  EXPECT_EQ(Names(a.called), Names(b.called));
  EXPECT_TRUE(a.literal == b.literal);
  EXPECT_EQ(a.parameter_number, b.parameter_number);
  EXPECT_EQ(a.tuple_index, b.tuple_index);
  EXPECT_EQ(a.dimensions, b.dimensions);
  EXPECT_EQ(a.slice, b.slice);
  EXPECT_EQ(a.slice_sizes, b.slice_sizes);
  EXPECT_EQ(a.padding, b.padding);
  EXPECT_EQ(a.dot_dims, b.dot_dims);
  EXPECT_EQ(a.window, b.window);
  EXPECT_EQ(a.conv_dims, b.conv_dims);
  EXPECT_EQ(a.feature_group_count, b.feature_group_count);
  EXPECT_EQ(a.batch_group_count, b.batch_group_count);
  EXPECT_EQ(a.gather_dims, b.gather_dims);
  EXPECT_EQ(a.scatter_dims, b.scatter_dims);
  EXPECT_EQ(a.indices_are_sorted, b.indices_are_sorted);
  EXPECT_EQ(a.unique_indices, b.unique_indices);
  EXPECT_EQ(a.comparison_direction, b.comparison_direction);
  EXPECT_EQ(a.comparison_type, b.comparison_type);
  EXPECT_EQ(a.replica_groups, b.replica_groups);
  EXPECT_EQ(a.channel_id, b.channel_id);
  EXPECT_EQ(a.use_global_device_ids, b.use_global_device_ids);
  EXPECT_EQ(a.constrain_layout, b.constrain_layout);
  EXPECT_EQ(a.source_target_pairs, b.source_target_pairs);
  EXPECT_EQ(a.custom_call_target, b.custom_call_target);
  EXPECT_EQ(a.custom_call_has_side_effect, b.custom_call_has_side_effect);
  EXPECT_EQ(a.is_stable, b.is_stable);
  EXPECT_EQ(a.exponent_bits, b.exponent_bits);
  EXPECT_EQ(a.mantissa_bits, b.mantissa_bits);
  EXPECT_EQ(a.rng_algorithm, b.rng_algorithm);
  EXPECT_EQ(a.operand_precision, b.operand_precision);
  EXPECT_EQ(a.sharding_provenance, b.sharding_provenance);
  EXPECT_EQ(a.spmd_origin, b.spmd_origin);
  EXPECT_EQ(a.sharding.has_value(), b.sharding.has_value());
  if (a.sharding && b.sharding) {
    EXPECT_TRUE(*a.sharding == *b.sharding);
    EXPECT_EQ(a.sharding->ToString(), b.sharding->ToString());
  }
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.frontend_attributes, b.frontend_attributes);
  EXPECT_EQ(a.backend_config, b.backend_config);
  EXPECT_EQ(a.opaque_attributes, b.opaque_attributes);
}

inline void ExpectSameModule(const Module& a, const Module& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.num_partitions, b.num_partitions);
  EXPECT_EQ(a.replica_count, b.replica_count);
  EXPECT_EQ(a.attributes, b.attributes);
  EXPECT_EQ(a.stack_frame_tables, b.stack_frame_tables);
  ASSERT_EQ(a.computations.size(), b.computations.size());
  EXPECT_EQ(a.entry->name, b.entry->name);
  for (size_t c = 0; c < a.computations.size(); ++c) {
    const Computation& x = *a.computations[c];
    const Computation& y = *b.computations[c];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.root->name, y.root->name);
    ASSERT_EQ(x.instructions.size(), y.instructions.size()) << x.name;
    for (size_t i = 0; i < x.instructions.size(); ++i) ExpectSameInstruction(*x.instructions[i], *y.instructions[i]);
  }
}

}  // namespace pjit::testing
