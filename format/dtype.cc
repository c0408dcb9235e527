#include "format/dtype.h"

#include <array>
#include <utility>

namespace pjit {
namespace {

constexpr std::array<std::pair<DType, std::string_view>, 15> kNames = {{
    {DType::kPred, "pred"}, {DType::kS8, "s8"},     {DType::kS16, "s16"},
    {DType::kS32, "s32"},   {DType::kS64, "s64"},   {DType::kU8, "u8"},
    {DType::kU16, "u16"},   {DType::kU32, "u32"},   {DType::kU64, "u64"},
    {DType::kF16, "f16"},   {DType::kBF16, "bf16"}, {DType::kF32, "f32"},
    {DType::kF64, "f64"},   {DType::kToken, "token"}, {DType::kTuple, "tuple"},
}};

}  // namespace

std::string_view DTypeName(DType t) {
  for (const auto& [type, name] : kNames)
    if (type == t) return name;
  return "invalid";
}

std::optional<DType> DTypeFromName(std::string_view name) {
  for (const auto& [type, n] : kNames)
    if (n == name && type != DType::kTuple) return type;
  return std::nullopt;
}

int64_t DTypeByteSize(DType t) {
  switch (t) {
    case DType::kPred: case DType::kS8: case DType::kU8: return 1;
    case DType::kS16: case DType::kU16: case DType::kF16: case DType::kBF16: return 2;
    case DType::kS32: case DType::kU32: case DType::kF32: return 4;
    case DType::kS64: case DType::kU64: case DType::kF64: return 8;
    default: return 0;
  }
}

}  // namespace pjit
