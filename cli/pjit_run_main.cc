#include <CLI/CLI.hpp>

#include "cli/exit_codes.h"
#include "run/runner.h"

int main(int argc, char** argv) {
  CLI::App app{"pjit-run: run a program on .npy inputs and write its results as .npy"};
  pjit::RunOptions options;
  app.add_option("program", options.program, ".pjit artifact or HLO text module")->required();
  app.add_option("-i,--input", options.inputs, "INDEX=FILE.npy or NAME=FILE.npy, one per entry parameter");
  app.add_option("-o,--output-dir", options.output_dir, "directory for out0.npy, out1.npy, ...")->required();
  app.add_option("--platform", options.platform, "where to run: interp (the reference interpreter)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? pjit::kExitOk : pjit::kExitUsage;
  }
  return pjit::ReportStatus("pjit-run", pjit::Run(options));
}
