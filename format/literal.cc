#include "format/literal.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace pjit {

Literal::Literal(Shape shape) : shape_(std::move(shape)) {
  if (shape_.IsTuple()) {
    for (const Shape& s : shape_.tuple_shapes) elements_.emplace_back(s);
  } else if (shape_.IsArray()) {
    bytes_.assign(static_cast<size_t>(shape_.ByteSize()), std::byte{0});
  }
}

Literal Literal::ForOverwrite(Shape shape) {
  if (!shape.IsArray()) return Literal(std::move(shape));
  Literal l;
  l.shape_ = std::move(shape);
  l.bytes_.resize(static_cast<size_t>(l.shape_.ByteSize()));
  return l;
}

Literal Literal::Tuple(std::vector<Literal> elements) {
  std::vector<Shape> shapes;
  for (const Literal& e : elements) shapes.push_back(e.shape());
  Literal l;
  l.shape_ = Shape::Tuple(std::move(shapes));
  l.elements_ = std::move(elements);
  return l;
}

double Literal::GetAsDouble(int64_t i) const {
  return VisitDType(shape_.dtype, [&]<typename T>() -> double {
    if constexpr (kIsHalfType<T>) return static_cast<float>(Get<T>(i));
    else return static_cast<double>(Get<T>(i));
  });
}

int64_t Literal::GetAsInt64(int64_t i) const {
  return VisitDType(shape_.dtype, [&]<typename T>() -> int64_t {
    if constexpr (kIsHalfType<T>) return static_cast<int64_t>(static_cast<float>(Get<T>(i)));
    else return static_cast<int64_t>(Get<T>(i));
  });
}

void Literal::SetFromDouble(int64_t i, double v) {
  VisitDType(shape_.dtype, [&]<typename T>() {
    if constexpr (kIsHalfType<T>) Set<T>(i, T(static_cast<float>(v)));
    else if constexpr (std::is_same_v<T, bool>) Set<T>(i, v != 0);
    else Set<T>(i, static_cast<T>(v));
  });
}

std::string FormatFloat(double v, DType t) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  std::to_chars_result r = t == DType::kF64 ? std::to_chars(buf, buf + sizeof buf, v)
                                            : std::to_chars(buf, buf + sizeof buf, static_cast<float>(v));
  return std::string(buf, r.ptr);
}

NanBits NanBitsOf(DType t) {
  switch (t) {
    case DType::kF16: return {10, 0x7c00, 0x8000};
    case DType::kBF16: return {7, 0x7f80, 0x8000};
    case DType::kF32: return {23, 0x7f800000, 0x80000000};
    default: return {52, 0x7ff0000000000000, 0x8000000000000000};
  }
}

namespace {

std::string FormatNan(const Literal& l, int64_t i) {
  uint64_t bits = 0;
  std::memcpy(&bits, l.bytes().data() + i * DTypeByteSize(l.shape().dtype), static_cast<size_t>(DTypeByteSize(l.shape().dtype)));
  NanBits nb = NanBitsOf(l.shape().dtype);
  uint64_t payload = bits & ((uint64_t{1} << nb.mantissa_bits) - 1);
  std::string out = (bits & nb.sign_bit) ? "-nan" : "nan";
  if (payload != uint64_t{1} << (nb.mantissa_bits - 1)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "(0x%llx)", static_cast<unsigned long long>(payload));
    out += buf;
  }
  return out;
}

std::string FormatElement(const Literal& l, int64_t i) {
  DType t = l.shape().dtype;
  if (t == DType::kPred) return l.Get<bool>(i) ? "true" : "false";
  if (IsFloating(t) && std::isnan(l.GetAsDouble(i))) return FormatNan(l, i);
  if (IsFloating(t)) return FormatFloat(l.GetAsDouble(i), t);
  if (t == DType::kU64) return std::to_string(l.Get<uint64_t>(i));
  return std::to_string(l.GetAsInt64(i));
}

void FormatArray(const Literal& l, size_t dim, int64_t& index, std::string& out) {
  const std::vector<int64_t>& dims = l.shape().dims;
  if (dim == dims.size()) {
    out += FormatElement(l, index++);
    return;
  }
  out += "{";
  for (int64_t i = 0; i < dims[dim]; ++i) {
    if (i) out += ", ";
    FormatArray(l, dim + 1, index, out);
  }
  out += "}";
}

}  // namespace

std::string Literal::ToString() const {
  if (shape_.IsTuple()) {
    std::string out = "(";
    for (size_t i = 0; i < elements_.size(); ++i) out += (i ? ", " : "") + elements_[i].ToString();
    return out + ")";
  }
  if (!shape_.IsArray()) return "";
  std::string out;
  int64_t index = 0;
  FormatArray(*this, 0, index, out);
  return out;
}

bool Literal::operator==(const Literal& other) const {
  return shape_.Compatible(other.shape_) && bytes_ == other.bytes_ && elements_ == other.elements_;
}

}  // namespace pjit
