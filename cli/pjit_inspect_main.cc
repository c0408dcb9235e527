#include <cstdio>

#include <CLI/CLI.hpp>

#include "cli/exit_codes.h"
#include "inspect/module_summary.h"

int main(int argc, char** argv) {
  CLI::App app{"pjit-inspect: show what an artifact or program holds; never runs it"};
  std::string input;
  bool json = false;
  app.add_option("file", input, ".pjit artifact or HLO text module")->required();
  app.add_flag("--json", json, "print the summary as JSON (artifacts only)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? pjit::kExitOk : pjit::kExitUsage;
  }
  pjit::StatusOr<std::string> summary = pjit::InspectFile(input, json);
  if (!summary.ok()) return pjit::ReportStatus("pjit-inspect", summary.status());
  std::fputs(summary->c_str(), stdout);
  return pjit::kExitOk;
}
