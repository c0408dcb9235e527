#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/exit_codes.h"
#include "run/runner.h"

namespace {

int Main(int argc, char** argv) {
  CLI::App app{"pjit-run: run a .pjit artifact on a platform's devices, from and to .npy files"};
  pjit::RunOptions o;
  app.add_option("program", o.program, ".pjit artifact (from pjit-compile)")->required();
  app.add_option("-i,--input", o.inputs,
                 "an input: KEY=FILE.npy, KEY=@random, KEY=2x3xf32=1,2,3 (KEY: index or name; without KEY= the next "
                 "input), or FILE.npz with all of them");
  app.add_option("-o,--output-dir", o.output_dir, "directory for out0.npy, out1.npy, ... (global arrays)");
  app.add_option("--platform", o.platform, "plugin that runs it: cpu, interp, cuda (where built), or a path to a plugin")->capture_default_str();
  app.add_option("--devices", o.devices, "device count; must equal the artifact's mesh (default: the mesh's)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--keep-sharded", o.keep_sharded, "write each device's shards (out0.device3.npy) instead of global arrays");
  app.add_option("--batch", o.batch, "manifest with one job per line: OUTPUT_DIR INPUT_SPEC...");
  app.add_option("--repeat", o.repeat, "runs per job (outputs of the last run are written)")->capture_default_str();
  app.add_flag("--benchmark", o.benchmark, "report per-run latency (min/median/max), throughput, and per-job transfer times");
  app.add_option("--expected-output", o.expected, "reference output (specs like --input); exit 3 on mismatch");
  app.add_option("--rtol", o.tolerance.rtol, "relative tolerance of --expected-output")->capture_default_str();
  app.add_option("--atol", o.tolerance.atol, "absolute tolerance of --expected-output")->capture_default_str();
  app.add_option("--seed", o.seed, "seed of @random inputs")->capture_default_str();
  app.add_option("--timeout-ms", o.timeout_ms, "how long a collective waits for its devices (at least 1)")->capture_default_str();
  app.add_option("--verify", o.verify_key,
                 "run only an artifact signed (pjit-compile --sign) by this Ed25519 key (PEM), checked before any code is loaded");
  app.add_option("--cores-per-device", o.cores_per_device,
                 "cpu platform: cores each device's kernels and gemms use (default: the machine's cores shared out evenly)")
      ->check(CLI::Range(int64_t{0}, int64_t{4096}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? pjit::kExitOk : pjit::kExitUsage;
  }
  o.progress_bar = isatty(STDERR_FILENO) != 0;
  pjit::StatusOr<pjit::RunSummary> summary = pjit::Run(o, std::cout, std::cerr);
  if (!summary.ok()) return pjit::ReportStatus("pjit-run", summary.status());
  return summary->mismatches ? pjit::kExitMismatch : pjit::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  return pjit::RunTool("pjit-run", [&] { return Main(argc, argv); });
}
