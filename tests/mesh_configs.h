// Meshes and command-line shardings that the partitioner and runtime suites sweep over.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compile/pipeline.h"
#include "format/hlo_module.h"

namespace pjit::testing {

struct MeshConfig {
  std::string mesh;               // --mesh; empty: the module's own
  std::vector<std::string> axes;  // the axes the shardings split over; empty: none
  int64_t shift = 0;
};

// A PartitionSpec of `rank` dims: dim (first_dim mod rank) over the first axis and, on 2-D
// meshes, the next dim over the second.
inline std::string Spec(int64_t rank, int64_t first_dim, const MeshConfig& c) {
  std::vector<std::string> parts(static_cast<size_t>(rank), "_");
  if (rank == 0) return "";
  parts[static_cast<size_t>(first_dim % rank)] = c.axes[0];
  if (c.axes.size() > 1 && rank > 1) parts[static_cast<size_t>((first_dim + 1) % rank)] = c.axes[1];
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? "," : "") + parts[i];
  return s;
}

// Sets options.mesh and the shardings: parameter i splits dim i + shift, result 0 dim shift
// (overriding what the module annotates).
inline void SetMeshAndShardings(const Module& m, const MeshConfig& c, CompileOptions& options) {
  options.mesh = c.mesh;
  if (c.axes.empty()) return;
  for (size_t i = 0; i < m.entry->parameters.size(); ++i) {
    int64_t rank = m.entry->parameters[i]->shape.rank();
    if (rank > 0) options.in_shardings.push_back(std::to_string(i) + "=" + Spec(rank, static_cast<int64_t>(i) + c.shift, c));
  }
  const Instruction* root = m.entry->root;
  const Instruction* out0 = root->opcode == Opcode::kTuple ? root->operand(0) : root;
  if (out0->shape.IsArray() && out0->shape.rank() > 0) options.out_shardings.push_back("0=" + Spec(out0->shape.rank(), c.shift, c));
}

}  // namespace pjit::testing
