// IEEE binary16 and bfloat16 storage types. Arithmetic happens in float; conversion back
// rounds to nearest even, as XLA and numpy do.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace pjit {

struct BFloat16 {
  uint16_t bits = 0;

  BFloat16() = default;
  explicit BFloat16(float f) : bits(FromFloat(f)) {}
  explicit operator float() const { return std::bit_cast<float>(uint32_t{bits} << 16); }

  static uint16_t FromFloat(float f) {
    uint32_t u = std::bit_cast<uint32_t>(f);
    if (std::isnan(f)) return static_cast<uint16_t>((u >> 16) | 0x40);  // stay a quiet NaN
    uint32_t rounding = 0x7fff + ((u >> 16) & 1);
    return static_cast<uint16_t>((u + rounding) >> 16);
  }
};

struct Half {
  uint16_t bits = 0;

  Half() = default;
  explicit Half(float f) : bits(FromFloat(f)) {}
  explicit operator float() const { return ToFloat(bits); }

  static float ToFloat(uint16_t h) {
    uint32_t sign = uint32_t{h & 0x8000u} << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
    if (exp == 0) {
      float magnitude = std::ldexp(static_cast<float>(mant), -24);  // subnormal or zero
      return sign ? -magnitude : magnitude;
    }
    return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
  }

  static uint16_t FromFloat(float f) {
    uint32_t u = std::bit_cast<uint32_t>(f);
    uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000);
    uint32_t abs = u & 0x7fffffffu;
    if (abs >= 0x7f800000u) return sign | (abs > 0x7f800000u ? 0x7e00 : 0x7c00);  // NaN, Inf
    if (abs >= 0x477ff000u) return sign | 0x7c00;  // rounds to a value beyond 65504
    if (abs < 0x38800000u) {
      // Result is subnormal (or zero): scale so that one unit of the result is 2^-24, then
      // let the float unit round to nearest even.
      float scaled = std::bit_cast<float>(abs) * 16777216.0f;
      return sign | static_cast<uint16_t>(std::nearbyint(scaled));
    }
    uint32_t rounding = 0xfff + ((abs >> 13) & 1);
    return sign | static_cast<uint16_t>((abs - 0x38000000u + rounding) >> 13);
  }
};

}  // namespace pjit
