// Where an instruction of a per-device program comes from (written by the SPMD partitioner):
// the global instruction it partitions and, for what a resharding emitted, the global value
// that moved and between which shardings. pjit-inspect --collectives reads it to say which
// instruction caused each collective and why.
#pragma once

#include <string>

namespace pjit {

struct SpmdOrigin {
  std::string instruction;  // the global instruction; empty for shared helpers (partition-id)
  std::string resharded;    // the global value a resharding moved; empty otherwise
  std::string from_sharding, to_sharding;  // HloSharding text of that resharding
  // The resharding gathered the value in full because pjit does not partition `instruction`.
  bool fallback = false;
  bool operator==(const SpmdOrigin&) const = default;
};

}  // namespace pjit
