// The summary view of pjit-inspect for an HLO module: entry parameters and results with their
// shapes and shardings, computations, and instruction counts by opcode (collectives apart).
#pragma once

#include <string>

#include "format/hlo_module.h"
#include "format/status.h"

namespace pjit {

std::string SummarizeModule(const Module& module);

// The summary of a .pjit artifact or an HLO text file (told apart by content).
StatusOr<std::string> InspectFile(const std::string& path, bool json);

}  // namespace pjit
