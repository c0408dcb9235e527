// Where an instruction came from, as pjit-inspect's views print it: file:line:col in the HLO
// text, then the Python source line and op name that JAX's metadata names, when present.
#pragma once

#include <string>

#include "format/hlo_instruction.h"

namespace pjit {

inline std::string SourceLocation(const Instruction& in) {
  const OpMetadata& m = in.metadata;
  std::string out = in.location;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
  if (!m.source_file.empty()) add("source " + m.source_file + ":" + std::to_string(m.source_line));
  if (!m.op_name.empty()) add("op " + m.op_name);
  return out;
}

}  // namespace pjit
