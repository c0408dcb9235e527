#include <cstdio>

#include <CLI/CLI.hpp>

#include "cli/exit_codes.h"
#include "compile/pipeline.h"

int main(int argc, char** argv) {
  CLI::App app{"pjit-compile: compile an HLO module into a .pjit artifact"};
  pjit::CompileOptions options;
  app.add_option("input", options.input, "HLO text module (as XLA/JAX dump it)")->required();
  app.add_option("-o,--output", options.output, ".pjit artifact to write (atomically); - for standard output")->required();
  app.add_option("--mesh", options.mesh, "named device mesh, e.g. data=2,model=4 (default: from the module)");
  app.add_option("--in-sharding", options.in_shardings, "INDEX=SPEC or NAME=SPEC for an entry parameter, e.g. 0=data,_");
  app.add_option("--out-sharding", options.out_shardings, "INDEX=SPEC for a result, e.g. 0=(data,model),_");
  app.add_option("--cpu", options.cpu, "CPU the kernels are compiled for: x86-64 (portable, default), x86-64-v3, x86-64-v4, native or a model");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? pjit::kExitOk : pjit::kExitUsage;
  }
  pjit::StatusOr<pjit::CompileReport> report = pjit::Compile(options);
  if (!report.ok()) return pjit::ReportStatus("pjit-compile", report.status());
  for (const std::string& w : report->warnings) std::fprintf(stderr, "pjit-compile: warning: %s\n", w.c_str());
  return pjit::kExitOk;
}
