#include "format/elementwise_eval.h"

#include <cmath>
#include <cstring>

#include "format/elementwise.h"

namespace pjit {
namespace {

using elementwise::ApplyBinary;
using elementwise::ApplyCompare;
using elementwise::ApplyUnary;
using elementwise::ConvertValue;
using elementwise::Load;

Literal Unary(const Instruction& in, const Literal& x) {
  Literal out(in.shape);
  int64_t n = x.element_count();
  VisitDType(x.shape().dtype, [&]<typename T>() {
    const T* a = x.data<T>();
    if (in.opcode == Opcode::kIsFinite) {
      for (int64_t i = 0; i < n; ++i) out.data<bool>()[i] = std::isfinite(static_cast<double>(Load(a[i])));
      return;
    }
    T* o = out.data<T>();
    for (int64_t i = 0; i < n; ++i) o[i] = ApplyUnary<T>(in.opcode, a[i]);
  });
  return out;
}

Literal Binary(const Instruction& in, const Literal& a, const Literal& b) {
  Literal out(in.shape);
  int64_t n = a.element_count();
  VisitDType(a.shape().dtype, [&]<typename T>() {
    const T* x = a.data<T>();
    const T* y = b.data<T>();
    T* o = out.data<T>();
    for (int64_t i = 0; i < n; ++i) o[i] = ApplyBinary<T>(in.opcode, x[i], y[i]);
  });
  return out;
}

Literal Compare(const Instruction& in, const Literal& a, const Literal& b) {
  Literal out(in.shape);
  bool total = in.comparison_type == ComparisonType::kTotalOrder;
  int64_t n = a.element_count();
  VisitDType(a.shape().dtype, [&]<typename T>() {
    for (int64_t i = 0; i < n; ++i)
      out.data<bool>()[i] = ApplyCompare<T>(in.comparison_direction, total, a.data<T>()[i], b.data<T>()[i]);
  });
  return out;
}

Literal Convert(const Instruction& in, const Literal& x) {
  Literal out(in.shape);
  int64_t n = x.element_count();
  VisitDType(x.shape().dtype, [&]<typename From>() {
    VisitDType(in.shape.dtype, [&]<typename To>() {
      for (int64_t i = 0; i < n; ++i) out.data<To>()[i] = ConvertValue<To, From>(x.data<From>()[i]);
    });
  });
  return out;
}

Literal Select(const Instruction& in, const Literal& p, const Literal& a, const Literal& b) {
  Literal out(in.shape);
  size_t size = static_cast<size_t>(DTypeByteSize(in.shape.dtype));
  bool scalar = p.shape().rank() == 0;
  for (int64_t i = 0; i < out.element_count(); ++i) {
    const Literal& from = p.data<bool>()[scalar ? 0 : i] ? a : b;
    std::memcpy(out.bytes().data() + static_cast<size_t>(i) * size, from.bytes().data() + static_cast<size_t>(i) * size, size);
  }
  return out;
}

Literal Clamp(const Instruction& in, const Literal& lo, const Literal& x, const Literal& hi) {
  Literal out(in.shape);
  bool lo_scalar = lo.shape().rank() == 0, hi_scalar = hi.shape().rank() == 0;
  VisitDType(in.shape.dtype, [&]<typename T>() {
    for (int64_t i = 0; i < out.element_count(); ++i) {
      T v = ApplyBinary<T>(Opcode::kMaximum, x.data<T>()[i], lo.data<T>()[lo_scalar ? 0 : i]);
      out.data<T>()[i] = ApplyBinary<T>(Opcode::kMinimum, v, hi.data<T>()[hi_scalar ? 0 : i]);
    }
  });
  return out;
}

}  // namespace

bool IsElementwiseEvaluable(Opcode op) {
  return IsElementwiseUnary(op) || IsElementwiseBinary(op) || op == Opcode::kCompare || op == Opcode::kConvert ||
         op == Opcode::kSelect || op == Opcode::kClamp;
}

Literal EvaluateElementwise(const Instruction& in, const std::vector<const Literal*>& ops) {
  if (IsElementwiseUnary(in.opcode)) return Unary(in, *ops[0]);
  if (IsElementwiseBinary(in.opcode)) return Binary(in, *ops[0], *ops[1]);
  switch (in.opcode) {
    case Opcode::kCompare: return Compare(in, *ops[0], *ops[1]);
    case Opcode::kConvert: return Convert(in, *ops[0]);
    case Opcode::kSelect: return Select(in, *ops[0], *ops[1], *ops[2]);
    default: return Clamp(in, *ops[0], *ops[1], *ops[2]);
  }
}

}  // namespace pjit
