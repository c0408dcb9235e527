// What pjit-run does: load an artifact, pick a platform plugin, create the mesh's devices,
// shard global inputs per the artifact's input shardings, run every device, assemble the
// global outputs and write them as .npy — once, many times (--repeat), or for every job of a
// batch manifest through the one loaded executable.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "format/status.h"
#include "run/array_compare.h"

namespace pjit {

struct RunOptions {
  std::string program;                // .pjit artifact
  std::vector<std::string> inputs;    // specs, see run/input_binding.h
  std::string output_dir;             // receives out0.npy, out1.npy, ...
  std::string platform = "cpu";       // plugin name or path
  int64_t devices = 0;                // 0: the artifact's mesh; else it must match it
  bool keep_sharded = false;          // write out<i>.device<d>.npy per device instead
  std::string batch;                  // manifest: "OUTPUT_DIR INPUT_SPEC..." per line
  int64_t repeat = 1;                 // runs per job (the outputs of the last are written)
  bool benchmark = false;             // report latency and throughput
  std::vector<std::string> expected;  // reference outputs (specs like inputs)
  Tolerance tolerance;
  uint64_t seed = 0;                  // for @random inputs
  int64_t timeout_ms = 60'000;        // how long a collective waits for its group
  int64_t cores_per_device = 0;       // cpu: cores each device uses; 0: the machine's shared out
  bool progress_bar = false;          // redraw one progress line (stderr is a terminal)
  std::string verify_key;             // see SessionOptions::verify_key
};

struct RunSummary {
  int64_t jobs = 0;
  int64_t mismatches = 0;  // outputs that differ from --expected-output
};

// Progress and results go to `out`, the progress bar to `progress`.
StatusOr<RunSummary> Run(const RunOptions& options, std::ostream& out, std::ostream& progress);

}  // namespace pjit
