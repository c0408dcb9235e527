#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <CLI/CLI.hpp>

#include "cli/exit_codes.h"
#include "inspect/inspect.h"
#include "format/units.h"

namespace {

int Main(int argc, char** argv) {
  CLI::App app{"pjit-inspect: show what an artifact or program holds; never runs it"};
  pjit::InspectRequest q;
  using View = pjit::InspectView;
  bool shardings = false, collectives = false, memory = false, program = false, global = false, binaries = false;
  std::string explain, extract, bandwidth = "25GB/s", latency = "5us", color = "auto";
  int64_t device = -1;
  app.add_option("file", q.path, ".pjit artifact (or HLO text module, for the summary)")->required();
  app.add_option("names", q.names, "with --shardings: instructions of the global program to draw");
  app.add_flag("--json", q.json, "print the view as JSON (artifacts only; schema in pjit-inspect(1))");
  app.add_flag("--shardings", shardings, "draw each input's and output's sharding (or the named instructions') as a grid");
  app.add_option("--explain", explain, "why instruction NAME has its sharding: the chain back to an annotation or flag");
  app.add_flag("--collectives", collectives, "every collective: kind, groups, bytes per device, cause, estimated time");
  app.add_flag("--memory", memory, "per-device peak, the buffers live at the peak, totals by kind");
  app.add_flag("--all", q.all, "with --memory: list every buffer live at the peak");
  app.add_flag("--program", program, "print the program a device runs, as HLO text");
  auto* device_opt = app.add_option("--device", device, "with --program: the device whose program to print")->check(CLI::NonNegativeNumber);
  app.add_flag("--global", global, "print the global program with every instruction's sharding");
  app.add_flag("--binaries", binaries, "targets, kernels and binary sizes, and every blob");
  app.add_option("--extract", extract, "write the binary of target NAME (or the blob NAME) to -o FILE");
  app.add_option("-o,--output", q.output, "with --extract: the file to write (atomically); - for standard output");
  app.add_option("--diff", q.other, "compare with another artifact: mesh, shardings, collectives, memory");
  app.add_option("--link-bandwidth", bandwidth, "alpha-beta model: bytes per second per device (default 25GB/s)");
  app.add_option("--link-latency", latency, "alpha-beta model: latency per step (default 5us)");
  app.add_flag("--ascii", q.grid.ascii, "with --shardings: draw with +-| instead of box-drawing characters");
  app.add_option("--color", color, "with --shardings: auto (on a terminal, unless NO_COLOR is set), always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? pjit::kExitOk : pjit::kExitUsage;
  }
  auto usage = [](const char* message) {
    std::fprintf(stderr, "pjit-inspect: %s\n", message);
    return pjit::kExitUsage;
  };
  int views = shardings + !explain.empty() + collectives + memory + program + global + binaries + !extract.empty() + !q.other.empty();
  if (views > 1) return usage("choose one view: --shardings, --explain, --collectives, --memory, --program, --global, --binaries, --extract or --diff");
  if (!q.names.empty() && !shardings) return usage("instruction names after the file need --shardings");
  if (device_opt->count() && !program) return usage("--device needs --program");
  if (!extract.empty() && q.output.empty()) return usage("--extract needs -o FILE");
  if (!q.output.empty() && extract.empty()) return usage("-o needs --extract");
  if (q.all && !memory) return usage("--all needs --memory");
  q.view = shardings ? View::kShardings : !explain.empty() ? View::kExplain : collectives ? View::kCollectives
         : memory ? View::kMemory : program ? View::kProgram : global ? View::kGlobal : binaries ? View::kBinaries
         : !extract.empty() ? View::kExtract : !q.other.empty() ? View::kDiff : View::kSummary;
  q.name = !explain.empty() ? explain : extract;
  if (device_opt->count()) q.device = device;
  q.grid.color = color == "always" || (color == "auto" && isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR"));
  pjit::StatusOr<double> b = pjit::ParseBandwidth(bandwidth), l = pjit::ParseLatency(latency);
  if (!b.ok()) return pjit::ReportStatus("pjit-inspect", b.status());
  if (!l.ok()) return pjit::ReportStatus("pjit-inspect", l.status());
  q.link = {*b, *l};
  pjit::StatusOr<std::string> out = pjit::Inspect(q);
  if (!out.ok()) return pjit::ReportStatus("pjit-inspect", out.status());
  std::fwrite(out->data(), 1, out->size(), stdout);  // --extract -o - writes binary bytes
  return pjit::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  return pjit::RunTool("pjit-inspect", [&] { return Main(argc, argv); });
}
