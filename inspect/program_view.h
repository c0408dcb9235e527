// pjit-inspect's program views: `--program [--device N]` prints the program a device runs (the
// partitioned SPMD program, as HLO text that pjit-compile reads back), `--global` the global
// program with every instruction's sharding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "format/status.h"
#include "inspect/inspected_artifact.h"

namespace pjit {

struct ProgramViewOptions {
  bool global = false;
  std::optional<int64_t> device;  // default: the first program the artifact lists
  bool json = false;              // {"devices": [...], "hlo": "..."}
};

StatusOr<std::string> ProgramView(const InspectedArtifact& artifact, const ProgramViewOptions& options);

}  // namespace pjit
