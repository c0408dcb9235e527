// The compile pipeline behind pjit-compile: parse and verify, apply the command-line mesh and
// shardings, inline calls, propagate shardings, partition into the per-device SPMD program,
// fuse elementwise loops, lower it to the thunk sequence with its arena plan, compile the loop
// kernels for each target (x86-64 code; PTX and cubins for CUDA), and write the .pjit artifact.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "format/hlo_module.h"
#include "format/mesh.h"
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
  // What the kernels are compiled for: "cpu" (x86-64 code) and/or "cuda" (PTX, and cubins
  // for cuda_archs where ptxas is found); one artifact carries every target's code.
  std::vector<std::string> targets = {"cpu"};
  std::string cpu = "x86-64";              // the CPU the kernels are compiled for (see CpuCodegenOptions)
  std::vector<std::string> cuda_archs = {"sm_80", "sm_90"};  // see CudaCodegenOptions
  // Bytes a device may use for its arena (0: no limit); a plan over it fails the compile with
  // the device's peak and the largest buffers live there.
  uint64_t memory_limit = 0;
  // An Ed25519 private key's PEM file to sign the artifact with (ArtifactContents::signing_key).
  std::string signing_key;
  // Told when each pass starts (done = total = 0) and as kernels compile (done of total);
  // called from worker threads during code generation.
  std::function<void(const std::string& pass, int64_t done, int64_t total)> progress;
};

// How long each pass took, in pipeline order.
using PassTimes = std::vector<std::pair<std::string, double>>;

struct CompileReport {
  std::vector<std::string> warnings;  // one line each
  PassTimes pass_seconds;
};

// What the pipeline makes of a module before anything is written.
struct CompiledProgram {
  Mesh mesh;
  std::unique_ptr<Module> global;  // with every instruction's sharding
  std::unique_ptr<Module> device;  // the program each device runs
  std::vector<std::string> warnings;
  PassTimes pass_seconds;
};

// Compiles HLO `text` (named options.input in messages); options.output is not used.
StatusOr<CompiledProgram> CompileText(const std::string& text, const CompileOptions& options);

StatusOr<CompileReport> Compile(const CompileOptions& options);

}  // namespace pjit
