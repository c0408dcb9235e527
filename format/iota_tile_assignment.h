// XLA's compact "iota" device lists, e.g. [2,4]<=[4,2]T(1,0): the numbers 0..N-1 laid out
// in reshape_dims, transposed by perm, then reshaped to dims. Used by replica groups now and
// by shardings later.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pjit {

struct IotaTileAssignment {
  std::vector<int64_t> dims;
  std::vector<int64_t> reshape_dims;
  std::vector<int64_t> transpose_perm;  // empty: identity

  // The device ids in row-major order of dims.
  std::vector<int64_t> Expand() const;
  // "[2,4]<=[4,2]T(1,0)"
  std::string ToString() const;
  bool operator==(const IotaTileAssignment&) const = default;
};

}  // namespace pjit
