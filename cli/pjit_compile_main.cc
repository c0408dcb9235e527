#include <CLI/CLI.hpp>

#include "cli/exit_codes.h"
#include "compile/pipeline.h"

int main(int argc, char** argv) {
  CLI::App app{"pjit-compile: compile an HLO module into a .pjit artifact"};
  pjit::CompileOptions options;
  app.add_option("input", options.input, "HLO text module (as XLA/JAX dump it)")->required();
  app.add_option("-o,--output", options.output, ".pjit artifact to write (atomically); - for standard output")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? pjit::kExitOk : pjit::kExitUsage;
  }
  return pjit::ReportStatus("pjit-compile", pjit::Compile(options));
}
