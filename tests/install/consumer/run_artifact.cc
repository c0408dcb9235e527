// run_artifact MODEL.pjit EXPECTED.npy INPUT.npy...: runs an artifact on the installed cpu
// plugin through pjit::run's Session and exits 0 when output 0 matches EXPECTED.
#include <cstdio>
#include <vector>

#include "format/npy.h"
#include "run/array_compare.h"
#include "run/session.h"

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  std::vector<pjit::Literal> inputs;
  for (int i = 3; i < argc; ++i) {
    auto in = pjit::ReadNpy(argv[i]);
    if (!in.ok()) return std::fprintf(stderr, "%s\n", in.status().message().c_str()), 1;
    inputs.push_back(std::move(*in));
  }
  pjit::SessionOptions options;
  options.platform = PJIT_CPU_PLUGIN;
  auto session = pjit::Session::Open(argv[1], options);
  if (!session.ok()) return std::fprintf(stderr, "%s\n", session.status().message().c_str()), 1;
  auto outputs = (*session)->Run(inputs);
  if (!outputs.ok()) return std::fprintf(stderr, "%s\n", outputs.status().message().c_str()), 1;
  auto want = pjit::ReadNpy(argv[2]);
  if (!want.ok()) return 1;
  if (auto diff = pjit::CompareArrays((*outputs)[0], *want, pjit::Tolerance{})) return std::fprintf(stderr, "%s\n", diff->c_str()), 1;
  std::printf("output 0 matches on %lld devices\n", static_cast<long long>((*session)->num_devices()));
  return 0;
}
