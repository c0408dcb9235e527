// The body of the HLO text fuzzer, shared by the libFuzzer target and the corpus replay
// test: parse, verify, print and parse again; any module that verifies must also survive
// shape inference for every instruction (which the verifier runs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "format/hlo_parser.h"
#include "format/hlo_printer.h"
#include "format/verifier.h"

namespace pjit {

inline void FuzzHloParser(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto module = ParseHloModule(text, "fuzz.hlo");
  if (!module.ok()) return;
  if (!VerifyModule(**module).ok()) return;
  std::string printed = PrintModule(**module);
  auto again = ParseHloModule(printed, "printed.hlo");
  if (!again.ok()) __builtin_trap();  // the printer wrote text the parser refuses
}

}  // namespace pjit
