// Program model → canonical HLO text that ParseHloModule reads back to an equal module.
#pragma once

#include <string>

#include "format/hlo_module.h"

namespace pjit {

std::string PrintModule(const Module& module);
std::string PrintComputation(const Computation& computation, bool is_entry);
std::string PrintInstruction(const Instruction& instr);

// C-style escaping for HLO string attributes.
std::string EscapeString(std::string_view s);

}  // namespace pjit
