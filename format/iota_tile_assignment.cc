#include "format/iota_tile_assignment.h"

#include "format/shape.h"

namespace pjit {

std::vector<int64_t> IotaTileAssignment::Expand() const {
  int64_t n = 1;
  for (int64_t d : reshape_dims) n *= d;
  std::vector<int64_t> out(n);
  if (transpose_perm.empty()) {
    for (int64_t i = 0; i < n; ++i) out[i] = i;
    return out;
  }
  // Element at transposed index t has iota value sum(t[k] * in_stride[perm[k]]).
  std::vector<int64_t> in_strides = RowMajorStrides(reshape_dims);
  std::vector<int64_t> tdims(transpose_perm.size());
  for (size_t k = 0; k < tdims.size(); ++k) tdims[k] = reshape_dims[transpose_perm[k]];
  std::vector<int64_t> index(tdims.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t v = 0;
    for (size_t k = 0; k < tdims.size(); ++k) v += index[k] * in_strides[transpose_perm[k]];
    out[i] = v;
    for (int64_t k = static_cast<int64_t>(tdims.size()) - 1; k >= 0; --k) {
      if (++index[k] < tdims[k]) break;
      index[k] = 0;
    }
  }
  return out;
}

std::string IotaTileAssignment::ToString() const {
  auto list = [](const std::vector<int64_t>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s;
  };
  std::string out = "[" + list(dims) + "]<=[" + list(reshape_dims) + "]";
  if (!transpose_perm.empty()) out += "T(" + list(transpose_perm) + ")";
  return out;
}

}  // namespace pjit
