#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <mutex>

#include <CLI/CLI.hpp>

#include "cli/exit_codes.h"
#include "compile/pipeline.h"
#include "format/units.h"

namespace {

int Main(int argc, char** argv) {
  CLI::App app{"pjit-compile: compile an HLO module into a .pjit artifact"};
  pjit::CompileOptions options;
  bool quiet = false, time_passes = false;
  std::string memory_limit;
  app.add_option("input", options.input, "HLO text module (as XLA/JAX dump it)")->required();
  app.add_option("-o,--output", options.output, ".pjit artifact to write (atomically); - for standard output")->required();
  app.add_option("--mesh", options.mesh, "named device mesh, e.g. data=2,model=4 (default: from the module)");
  app.add_option("--in-sharding", options.in_shardings, "INDEX=SPEC or NAME=SPEC for an entry parameter, e.g. 0=data,_");
  app.add_option("--out-sharding", options.out_shardings, "INDEX=SPEC for a result, e.g. 0=(data,model),_");
  app.add_option("--target", options.targets, "what the kernels are compiled for: cpu (default), cuda, or cpu,cuda (one artifact, both)")
      ->delimiter(',');
  app.add_option("--cuda-arch", options.cuda_archs, "GPU architectures to build cubins for with --target cuda (default sm_80,sm_90; PTX for the lowest)")
      ->delimiter(',');
  app.add_option("--cpu", options.cpu, "CPU the kernels are compiled for: x86-64 (portable, default), x86-64-v3, x86-64-v4, native or a model");
  app.add_option("--memory-limit", memory_limit, "fail when a device would need more, e.g. 2GiB, 512MiB, 8GB (names the peak and its largest buffers)");
  app.add_option("--sign", options.signing_key,
                 "sign the artifact with this Ed25519 private key (PEM, from: openssl genpkey -algorithm ed25519); pjit-run --verify checks it");
  app.add_flag("--quiet", quiet, "no progress line (shown on a terminal when a compile takes over a second)");
  app.add_flag("--time-passes", time_passes, "print how long each pass took, on standard error");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? pjit::kExitOk : pjit::kExitUsage;
  }
  if (!memory_limit.empty()) {
    pjit::StatusOr<uint64_t> bytes = pjit::ParseBytes(memory_limit, "--memory-limit");
    if (!bytes.ok()) {
      std::fprintf(stderr, "pjit-compile: error: %s\n", bytes.status().message().c_str());
      return pjit::kExitUsage;
    }
    options.memory_limit = *bytes;
  }
  // One progress line on a terminal, once the compile has taken a second.
  const auto start = std::chrono::steady_clock::now();
  std::mutex mu;
  bool shown = false;
  if (!quiet && isatty(STDERR_FILENO))
    options.progress = [&](const std::string& pass, int64_t done, int64_t total) {
      std::lock_guard<std::mutex> lock(mu);
      if (std::chrono::steady_clock::now() - start < std::chrono::seconds(1)) return;
      shown = true;
      if (total) std::fprintf(stderr, "\r\033[Kpjit-compile: %s, %lld/%lld kernels", pass.c_str(), static_cast<long long>(done),
                              static_cast<long long>(total));
      else std::fprintf(stderr, "\r\033[Kpjit-compile: %s", pass.c_str());
    };
  pjit::StatusOr<pjit::CompileReport> report = pjit::Compile(options);
  if (shown) std::fputs("\r\033[K", stderr);
  if (!report.ok()) return pjit::ReportStatus("pjit-compile", report.status());
  for (const std::string& w : report->warnings) std::fprintf(stderr, "pjit-compile: warning: %s\n", pjit::TerminalSafe(w).c_str());
  if (time_passes) {
    double total = 0;
    for (const auto& [pass, seconds] : report->pass_seconds) {
      std::fprintf(stderr, "pjit-compile: %8.3f s  %s\n", seconds, pass.c_str());
      total += seconds;
    }
    std::fprintf(stderr, "pjit-compile: %8.3f s  total\n", total);
  }
  return pjit::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  return pjit::RunTool("pjit-compile", [&] { return Main(argc, argv); });
}
