// Element types of the program model: XLA's PrimitiveType, restricted to what pjit supports.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace pjit {

enum class DType : uint8_t {
  kInvalid,
  kPred, kS8, kS16, kS32, kS64, kU8, kU16, kU32, kU64, kF16, kBF16, kF32, kF64,
  kTuple, kToken,
};

std::string_view DTypeName(DType t);
std::optional<DType> DTypeFromName(std::string_view name);
int64_t DTypeByteSize(DType t);  // 0 for tuple, token and invalid

inline bool IsFloating(DType t) {
  return t == DType::kF16 || t == DType::kBF16 || t == DType::kF32 || t == DType::kF64;
}
inline bool IsSignedInt(DType t) {
  return t == DType::kS8 || t == DType::kS16 || t == DType::kS32 || t == DType::kS64;
}
inline bool IsUnsignedInt(DType t) {
  return t == DType::kU8 || t == DType::kU16 || t == DType::kU32 || t == DType::kU64;
}
inline bool IsInteger(DType t) { return IsSignedInt(t) || IsUnsignedInt(t); }
inline bool IsArrayType(DType t) { return t >= DType::kPred && t <= DType::kF64; }

}  // namespace pjit
