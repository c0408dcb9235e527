// A host array value (or tuple of values): the constants of a program, the inputs and
// outputs of the interpreter, and what .npy files hold. Elements are stored row-major
// (logical order) whatever the shape's layout says.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "format/float16.h"
#include "format/host_memory.h"
#include "format/shape.h"
#include "format/status.h"

namespace pjit {

// Calls f.template operator()<T>() with the C++ storage type of an array dtype.
template <typename F>
decltype(auto) VisitDType(DType t, F&& f) {
  switch (t) {
    case DType::kPred: return f.template operator()<bool>();
    case DType::kS8: return f.template operator()<int8_t>();
    case DType::kS16: return f.template operator()<int16_t>();
    case DType::kS32: return f.template operator()<int32_t>();
    case DType::kS64: return f.template operator()<int64_t>();
    case DType::kU8: return f.template operator()<uint8_t>();
    case DType::kU16: return f.template operator()<uint16_t>();
    case DType::kU32: return f.template operator()<uint32_t>();
    case DType::kU64: return f.template operator()<uint64_t>();
    case DType::kF16: return f.template operator()<Half>();
    case DType::kBF16: return f.template operator()<BFloat16>();
    case DType::kF32: return f.template operator()<float>();
    default: return f.template operator()<double>();
  }
}

template <typename T>
constexpr bool kIsHalfType = std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

class Literal {
 public:
  Literal() = default;
  explicit Literal(Shape shape);  // zero-filled; tuples get zero-filled elements
  // An array whose bytes the caller writes in full before reading any: not zero-filled.
  static Literal ForOverwrite(Shape shape);

  static Literal Tuple(std::vector<Literal> elements);
  template <typename T>
  static Literal Scalar(DType t, T value) {
    Literal l(Shape::Array(t, {}));
    l.Set<T>(0, value);
    return l;
  }

  const Shape& shape() const { return shape_; }
  int64_t element_count() const { return shape_.ElementCount(); }

  std::span<std::byte> bytes() { return bytes_; }
  std::span<const std::byte> bytes() const { return bytes_; }
  template <typename T>
  T* data() { return reinterpret_cast<T*>(bytes_.data()); }
  template <typename T>
  const T* data() const { return reinterpret_cast<const T*>(bytes_.data()); }
  template <typename T>
  T Get(int64_t i) const { T v; std::memcpy(&v, bytes_.data() + i * sizeof(T), sizeof(T)); return v; }
  template <typename T>
  void Set(int64_t i, T v) { std::memcpy(bytes_.data() + i * sizeof(T), &v, sizeof(T)); }

  // Element i of an array as double / int64 whatever the dtype (for indices and printing).
  double GetAsDouble(int64_t i) const;
  int64_t GetAsInt64(int64_t i) const;
  // Stores v converted to the dtype (saturating nothing: values must fit).
  void SetFromDouble(int64_t i, double v);

  std::vector<Literal>& elements() { return elements_; }
  const std::vector<Literal>& elements() const { return elements_; }

  // HLO text of the value: "{{1, 2}, {3, 4}}", "1.5", "true", "(1, {2, 3})".
  std::string ToString() const;

  bool operator==(const Literal& other) const;  // bitwise on the data

 private:
  Shape shape_;
  std::vector<std::byte, HostAllocator<std::byte>> bytes_;
  std::vector<Literal> elements_;
};

// Shortest text that parses back to the same value: "1", "0.1", "-inf", "nan".
std::string FormatFloat(double v, DType t);

// NaN bit layouts, so that sign and payload survive HLO text: "-nan", "nan(0x1)".
struct NanBits {
  int mantissa_bits;
  uint64_t exponent_mask;
  uint64_t sign_bit;
};
NanBits NanBitsOf(DType t);  // floating-point dtypes only

}  // namespace pjit
