// The compile pipeline behind pjit-compile: parse, verify, and write the .pjit artifact.
// Today every program compiles for a 1-device mesh; sharding propagation, partitioning and
// code generation plug in between verification and writing.
#pragma once

#include <string>

#include "format/status.h"

namespace pjit {

struct CompileOptions {
  std::string input;   // HLO text file
  std::string output;  // .pjit artifact, written atomically; "-" for standard output
};

Status Compile(const CompileOptions& options);

}  // namespace pjit
