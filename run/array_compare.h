// Compares a result with a reference array: the check behind pjit-run --expected-output.
#pragma once

#include <optional>
#include <string>

#include "format/literal.h"

namespace pjit {

struct Tolerance {
  double rtol = 1e-4;
  double atol = 1e-5;
};

// Nothing when `got` matches `want`: same dtype and dims, and elementwise
// |got - want| <= atol + rtol * |want| (NaN equals NaN; integers and pred exactly). Otherwise
// one line saying how many elements differ and where the first one is.
std::optional<std::string> CompareArrays(const Literal& got, const Literal& want, Tolerance tolerance);

}  // namespace pjit
