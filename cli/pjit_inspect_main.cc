#include <cstdio>

#include <CLI/CLI.hpp>

#include "cli/exit_codes.h"
#include "inspect/module_summary.h"

int main(int argc, char** argv) {
  CLI::App app{"pjit-inspect: show what a program holds (inputs, outputs, shardings, ops)"};
  std::string input;
  app.add_option("file", input, "HLO text module")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? pjit::kExitOk : pjit::kExitUsage;
  }
  pjit::StatusOr<std::string> summary = pjit::InspectFile(input);
  if (!summary.ok()) return pjit::ReportStatus("pjit-inspect", summary.status());
  std::fputs(summary->c_str(), stdout);
  return pjit::kExitOk;
}
