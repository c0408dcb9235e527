// What pjit-run does: load a program (a .pjit artifact, or HLO text), bind inputs from .npy
// files, evaluate it on a platform and write every result as .npy. Until the plugins land,
// the one platform is `interp`, the reference interpreter, running the global program.
#pragma once

#include <string>
#include <vector>

#include "format/hlo_module.h"
#include "format/literal.h"
#include "format/status.h"

namespace pjit {

struct RunOptions {
  std::string program;              // .pjit artifact or HLO text file
  std::vector<std::string> inputs;  // "INDEX=file.npy" or "NAME=file.npy"
  std::string output_dir;           // receives out0.npy, out1.npy, ... (tuple results flattened)
  std::string platform = "interp";
};

// Binds "INDEX=file.npy" / "NAME=file.npy" specs to the entry parameters, in order.
StatusOr<std::vector<Literal>> LoadInputs(const Module& module, const std::vector<std::string>& specs);

// The leaves of a (possibly nested) tuple result, in order.
std::vector<Literal> FlattenResult(Literal result);

// The verified global program of an artifact or an HLO text file (told apart by content).
StatusOr<std::unique_ptr<Module>> LoadProgram(const std::string& path);

Status Run(const RunOptions& options);

}  // namespace pjit
