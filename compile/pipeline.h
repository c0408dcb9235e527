// The compile pipeline behind pjit-compile: parse and verify, apply the command-line mesh and
// shardings, inline calls, propagate shardings, and write the .pjit artifact. SPMD
// partitioning and code generation plug in after propagation.
#pragma once

#include <string>
#include <vector>

#include "format/status.h"

namespace pjit {

struct CompileOptions {
  std::string input;   // HLO text file
  std::string output;  // .pjit artifact, written atomically; "-" for standard output
  // "data=2,model=4". Empty: the mesh of the module's xla.sdy.meshes attribute, else its
  // num_partitions, else the device count its shardings imply, as a 1-D mesh "x"; a module
  // without shardings compiles for one device.
  std::string mesh;
  std::vector<std::string> in_shardings;   // "0=data,_" or "NAME=_,model": entry parameters
  std::vector<std::string> out_shardings;  // "0=data,_": results
};

struct CompileReport {
  std::vector<std::string> warnings;  // one line each
};

StatusOr<CompileReport> Compile(const CompileOptions& options);

}  // namespace pjit
