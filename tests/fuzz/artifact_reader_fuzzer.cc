// libFuzzer target for the artifact reader: cmake -DPJIT_FUZZ=ON with clang (see
// tests/fuzz/run_fuzzer.sh).
#include "tests/fuzz/artifact_reader_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pjit::FuzzArtifactReader(data, size);
  return 0;
}
