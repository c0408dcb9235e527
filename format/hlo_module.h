// Computations and modules: instructions own by their computation, computations by their
// module; operands and called computations are plain pointers into those.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "format/hlo_instruction.h"

namespace pjit {

struct Computation {
  std::string name;
  // Definition order, which the parser makes a topological order (operands first).
  std::vector<std::unique_ptr<Instruction>> instructions;
  std::vector<Instruction*> parameters;  // indexed by parameter_number
  Instruction* root = nullptr;

  Instruction* Find(std::string_view name) const;
};

struct Module {
  std::string name;
  std::vector<std::unique_ptr<Computation>> computations;  // callees before callers
  Computation* entry = nullptr;

  std::optional<int64_t> num_partitions;
  std::optional<int64_t> replica_count;
  // Other header attributes (entry_computation_layout, frontend_attributes,
  // input_output_alias, is_scheduled, ...) verbatim and in order.
  std::vector<std::pair<std::string, std::string>> attributes;
  // The FileNames / FunctionNames / FileLocations / StackFrames tables of newer dumps, verbatim.
  std::string stack_frame_tables;

  Computation* FindComputation(std::string_view name) const;
  // An instruction of any computation (names are unique in a module), the entry's first.
  Instruction* FindInstruction(std::string_view name) const;
  const std::string* FindAttribute(std::string_view key) const;
};

// The opcode of a reducer computation that is `ROOT op(p0, p1)` (or op(p1, p0) for a
// commutative op): reductions and collectives can then skip calling the computation.
std::optional<Opcode> SimpleReducer(const Computation& c);

// The device count a module declares (num_partitions) or, without one, the most devices any
// of its tiled shardings needs; at least 1.
int64_t DevicesImplied(const Module& module);

}  // namespace pjit
