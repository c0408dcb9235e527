// Structural checks of a parsed module: operand counts, called computation signatures and
// every instruction's declared shape against the inferred one. One line per problem, naming
// the instruction and its source location.
#pragma once

#include "format/hlo_module.h"
#include "format/status.h"

namespace pjit {

Status VerifyModule(const Module& module);

}  // namespace pjit
