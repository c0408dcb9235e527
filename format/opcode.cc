#include "format/opcode.h"

#include <array>

namespace pjit {
namespace {

struct OpcodeInfo {
  Opcode op;
  std::string_view name;
  OpcodeCategory category;
};

constexpr OpcodeInfo kOpcodes[] = {
#define PJIT_OPCODE_INFO(e, name, category) {Opcode::e, name, OpcodeCategory::category},
    PJIT_OPCODES(PJIT_OPCODE_INFO)
#undef PJIT_OPCODE_INFO
};

}  // namespace

std::string_view OpcodeName(Opcode op) { return kOpcodes[static_cast<int>(op)].name; }

std::optional<Opcode> OpcodeFromName(std::string_view name) {
  for (const auto& info : kOpcodes)
    if (info.name == name) return info.op;
  return std::nullopt;
}

OpcodeCategory CategoryOf(Opcode op) { return kOpcodes[static_cast<int>(op)].category; }

}  // namespace pjit
