#include <cstdio>

#include <CLI/CLI.hpp>

#include "cli/exit_codes.h"
#include "inspect/module_summary.h"
#include "inspect/program_view.h"

int main(int argc, char** argv) {
  CLI::App app{"pjit-inspect: show what an artifact or program holds; never runs it"};
  std::string input;
  bool json = false;
  app.add_option("file", input, ".pjit artifact or HLO text module")->required();
  pjit::ProgramViewOptions program;
  bool show_program = false;
  int64_t device = -1;
  app.add_flag("--json", json, "print the view as JSON (artifacts only)");
  app.add_flag("--program", show_program, "print the program a device runs, as HLO text");
  auto* device_opt = app.add_option("--device", device, "with --program: the device whose program to print")->check(CLI::NonNegativeNumber);
  app.add_flag("--global", program.global, "print the global program with every instruction's sharding");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? pjit::kExitOk : pjit::kExitUsage;
  }
  if (device_opt->count() && !show_program) {
    std::fputs("pjit-inspect: --device needs --program\n", stderr);
    return pjit::kExitUsage;
  }
  if (device_opt->count()) program.device = device;
  program.json = json;
  pjit::StatusOr<std::string> summary =
      show_program || program.global ? pjit::ProgramView(input, program) : pjit::InspectFile(input, json);
  if (!summary.ok()) return pjit::ReportStatus("pjit-inspect", summary.status());
  std::fputs(summary->c_str(), stdout);
  return pjit::kExitOk;
}
