// The summary view of pjit-inspect for an HLO module: entry parameters and results with their
// shapes and shardings, computations, and instruction counts by opcode (collectives apart).
#pragma once

#include <string>

#include "format/hlo_module.h"

namespace pjit {

std::string SummarizeModule(const Module& module);

}  // namespace pjit
