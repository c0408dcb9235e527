// The compile pipeline behind pjit-compile. Today it runs the stages that exist — parse and
// verify — and writes the verified module as canonical HLO text; later stages (shardings,
// partitioning, code generation, the .pjit artifact) plug in here.
#pragma once

#include <string>

#include "format/status.h"

namespace pjit {

struct CompileOptions {
  std::string input;   // HLO text file
  std::string output;  // written atomically
};

Status Compile(const CompileOptions& options);

}  // namespace pjit
