// libFuzzer target for the HLO text parser, verifier and printer (-DPJIT_FUZZ=ON with clang).
#include "tests/fuzz/hlo_parser_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pjit::FuzzHloParser(data, size);
  return 0;
}
