// Scalar semantics of HLO's elementwise ops, per storage type. Half and bfloat16 compute in
// float and round once per op, as XLA does. Integer edge cases follow XLA: division by zero
// gives -1 (all ones), INT_MIN / -1 gives INT_MIN, shifts past the width give 0 (or the sign).
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "format/hlo_attributes.h"
#include "format/literal.h"
#include "format/opcode.h"

namespace pjit::elementwise {

template <typename T>
using ComputeType = std::conditional_t<kIsHalfType<T>, float, T>;

template <typename T>
ComputeType<T> Load(T v) {
  if constexpr (kIsHalfType<T>) return static_cast<float>(v);
  else return v;
}
template <typename T>
T Store(ComputeType<T> v) {
  if constexpr (kIsHalfType<T>) return T(v);
  else return v;
}

// Wrapping integer arithmetic without signed-overflow UB.
template <typename T>
T Wrap(std::make_unsigned_t<T> v) { return static_cast<T>(v); }

template <typename T>
T ApplyUnary(Opcode op, T x) {
  using C = ComputeType<T>;
  C v = Load(x);
  if constexpr (std::is_same_v<T, bool>) {
    if (op == Opcode::kNot) return !v;
    return v;  // abs, sign, copy-like ops on pred are the identity
  } else if constexpr (std::is_floating_point_v<C>) {
    switch (op) {
      case Opcode::kAbs: return Store<T>(std::fabs(v));
      case Opcode::kNegate: return Store<T>(-v);
      case Opcode::kSign: return Store<T>(std::isnan(v) ? v : v > 0 ? C(1) : v < 0 ? C(-1) : v);
      case Opcode::kExp: return Store<T>(std::exp(v));
      case Opcode::kExpm1: return Store<T>(std::expm1(v));
      case Opcode::kLog: return Store<T>(std::log(v));
      case Opcode::kLog1p: return Store<T>(std::log1p(v));
      case Opcode::kSqrt: return Store<T>(std::sqrt(v));
      case Opcode::kRsqrt: return Store<T>(C(1) / std::sqrt(v));
      case Opcode::kCbrt: return Store<T>(std::cbrt(v));
      case Opcode::kTanh: return Store<T>(std::tanh(v));
      case Opcode::kLogistic: return Store<T>(C(1) / (C(1) + std::exp(-v)));
      case Opcode::kSin: return Store<T>(std::sin(v));
      case Opcode::kCos: return Store<T>(std::cos(v));
      case Opcode::kTan: return Store<T>(std::tan(v));
      case Opcode::kErf: return Store<T>(std::erf(v));
      case Opcode::kFloor: return Store<T>(std::floor(v));
      case Opcode::kCeil: return Store<T>(std::ceil(v));
      case Opcode::kRoundNearestEven: return Store<T>(std::nearbyint(v));
      case Opcode::kRoundNearestAfz: return Store<T>(std::round(v));
      default: return x;
    }
  } else {
    using U = std::make_unsigned_t<C>;
    switch (op) {
      case Opcode::kAbs: if constexpr (std::is_signed_v<C>) return v < 0 ? Wrap<C>(U(0) - U(v)) : v; else return v;
      case Opcode::kNegate: return Wrap<C>(U(0) - U(v));
      case Opcode::kSign: if constexpr (std::is_signed_v<C>) return static_cast<C>((v > 0) - (v < 0)); else return v > 0;
      case Opcode::kNot: return static_cast<C>(~v);
      case Opcode::kPopcnt: return static_cast<C>(std::popcount(U(v)));
      case Opcode::kClz: return static_cast<C>(std::countl_zero(U(v)));
      default: return v;
    }
  }
}

template <typename T>
T ApplyBinary(Opcode op, T a, T b) {
  using C = ComputeType<T>;
  C x = Load(a), y = Load(b);
  if constexpr (std::is_same_v<T, bool>) {
    switch (op) {
      case Opcode::kAdd: case Opcode::kOr: case Opcode::kMaximum: return x || y;
      case Opcode::kMultiply: case Opcode::kAnd: case Opcode::kMinimum: return x && y;
      case Opcode::kXor: case Opcode::kSubtract: return x != y;
      default: return x;
    }
  } else if constexpr (std::is_floating_point_v<C>) {
    switch (op) {
      case Opcode::kAdd: return Store<T>(x + y);
      case Opcode::kSubtract: return Store<T>(x - y);
      case Opcode::kMultiply: return Store<T>(x * y);
      case Opcode::kDivide: return Store<T>(x / y);
      case Opcode::kRemainder: return Store<T>(std::fmod(x, y));
      case Opcode::kPower: return Store<T>(std::pow(x, y));
      case Opcode::kAtan2: return Store<T>(std::atan2(x, y));
      // IEEE 754-2019 maximum/minimum: NaN-propagating, and -0 < +0, so that the result does not
      // depend on the operands' order (reductions may then fold in any order, as XLA's do).
      case Opcode::kMaximum:
        if (std::isnan(x) || std::isnan(y)) return Store<T>(std::numeric_limits<C>::quiet_NaN());
        return Store<T>(x == y ? (std::signbit(x) ? y : x) : std::max(x, y));
      case Opcode::kMinimum:
        if (std::isnan(x) || std::isnan(y)) return Store<T>(std::numeric_limits<C>::quiet_NaN());
        return Store<T>(x == y ? (std::signbit(x) ? x : y) : std::min(x, y));
      default: return a;
    }
  } else {
    using U = std::make_unsigned_t<C>;
    constexpr int kBits = sizeof(C) * 8;
    switch (op) {
      case Opcode::kAdd: return Wrap<C>(U(x) + U(y));
      case Opcode::kSubtract: return Wrap<C>(U(x) - U(y));
      case Opcode::kMultiply: return Wrap<C>(static_cast<U>(static_cast<uint64_t>(U(x)) * static_cast<uint64_t>(U(y))));
      case Opcode::kDivide:
        if (y == 0) return static_cast<C>(-1);
        if constexpr (std::is_signed_v<C>) if (x == std::numeric_limits<C>::min() && y == -1) return x;
        return static_cast<C>(x / y);
      case Opcode::kRemainder:
        if (y == 0) return x;
        if constexpr (std::is_signed_v<C>) if (x == std::numeric_limits<C>::min() && y == -1) return 0;
        return static_cast<C>(x % y);
      case Opcode::kPower: {
        if constexpr (std::is_signed_v<C>) {
          if (y < 0) return x == 1 ? 1 : x == -1 ? (y % 2 ? -1 : 1) : 0;
        }
        U result = 1, base = U(x);
        for (U e = U(y); e; e >>= 1) {
          if (e & 1) result = static_cast<U>(result * base);
          base = static_cast<U>(base * base);
        }
        return Wrap<C>(result);
      }
      case Opcode::kMaximum: return std::max(x, y);
      case Opcode::kMinimum: return std::min(x, y);
      case Opcode::kAnd: return static_cast<C>(x & y);
      case Opcode::kOr: return static_cast<C>(x | y);
      case Opcode::kXor: return static_cast<C>(x ^ y);
      case Opcode::kShiftLeft: return U(y) >= U(kBits) ? C(0) : Wrap<C>(static_cast<U>(U(x) << U(y)));
      case Opcode::kShiftRightLogical: return U(y) >= U(kBits) ? C(0) : Wrap<C>(static_cast<U>(U(x) >> U(y)));
      case Opcode::kShiftRightArithmetic:
        if constexpr (std::is_signed_v<C>) return U(y) >= U(kBits) ? C(x < 0 ? -1 : 0) : static_cast<C>(x >> y);
        else return U(y) >= U(kBits) ? C(0) : static_cast<C>(x >> y);
      default: return a;
    }
  }
}

// Orders floats totally: -NaN < -Inf < ... < -0 < +0 < ... < Inf < NaN.
template <typename C>
auto TotalOrderKey(C v) {
  using I = std::conditional_t<sizeof(C) == 8, int64_t, int32_t>;
  I bits = std::bit_cast<I>(v);
  return bits < 0 ? static_cast<I>(bits ^ std::numeric_limits<I>::max()) : bits;
}

template <typename T>
bool ApplyCompare(ComparisonDirection dir, bool total_order, T a, T b) {
  auto cmp = [dir](auto x, auto y) {
    switch (dir) {
      case ComparisonDirection::kEq: return x == y;
      case ComparisonDirection::kNe: return x != y;
      case ComparisonDirection::kLt: return x < y;
      case ComparisonDirection::kLe: return x <= y;
      case ComparisonDirection::kGt: return x > y;
      case ComparisonDirection::kGe: return x >= y;
    }
    return false;
  };
  auto x = Load(a);
  auto y = Load(b);
  if constexpr (std::is_floating_point_v<decltype(x)>) {
    if (total_order) return cmp(TotalOrderKey(x), TotalOrderKey(y));
  }
  return cmp(x, y);
}

// Conversion with XLA's rules: float → int saturates and maps NaN to 0.
template <typename To, typename From>
To ConvertValue(From from) {
  auto v = Load(from);
  using V = decltype(v);
  if constexpr (std::is_same_v<To, bool>) {
    return v != V(0);
  } else if constexpr (std::is_floating_point_v<V> && std::is_integral_v<To>) {
    if (std::isnan(v)) return 0;
    if (v <= static_cast<V>(std::numeric_limits<To>::min())) return std::numeric_limits<To>::min();
    if (v >= static_cast<V>(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    return static_cast<To>(v);
  } else if constexpr (kIsHalfType<To>) {
    return To(static_cast<float>(v));
  } else {
    return static_cast<To>(v);
  }
}

}  // namespace pjit::elementwise
