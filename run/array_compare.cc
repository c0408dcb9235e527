#include "run/array_compare.h"

#include <cmath>

#include "format/status.h"

namespace pjit {

std::optional<std::string> CompareArrays(const Literal& got, const Literal& want, Tolerance tolerance) {
  if (got.shape().dtype != want.shape().dtype || got.shape().dims != want.shape().dims)
    return StrCat("is ", got.shape().ToString(false), ", the reference ", want.shape().ToString(false));
  bool exact = !IsFloating(want.shape().dtype);
  int64_t bad = 0, first = -1;
  for (int64_t i = 0; i < want.element_count(); ++i) {
    double g = got.GetAsDouble(i), w = want.GetAsDouble(i);
    bool ok = exact ? g == w
                    : (std::isnan(g) && std::isnan(w)) || g == w ||
                          std::abs(g - w) <= tolerance.atol + tolerance.rtol * std::abs(w);
    if (!ok && bad++ == 0) first = i;
  }
  if (!bad) return std::nullopt;
  std::string index;
  int64_t rest = first;
  const std::vector<int64_t>& dims = want.shape().dims;
  std::vector<int64_t> at(dims.size());
  for (size_t d = dims.size(); d-- > 0;) {
    at[d] = rest % dims[d];
    rest /= dims[d];
  }
  for (size_t d = 0; d < at.size(); ++d) index += (d ? ", " : "") + std::to_string(at[d]);
  return StrCat(bad, " of ", want.element_count(), " elements differ beyond rtol=", tolerance.rtol, " atol=", tolerance.atol,
                "; the first at [", index, "]: got ", got.GetAsDouble(first), ", expected ", want.GetAsDouble(first));
}

}  // namespace pjit
