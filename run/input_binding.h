// Binds pjit-run's array specs (--input, --expected-output) to an artifact's inputs or
// outputs, checking every dtype and shape before anything runs. A spec is one of
//   KEY=FILE.npy        KEY: an index or an array name
//   KEY=@random         seeded random values of the expected dtype and shape
//   KEY=2x3xf32=1,2,3   a literal in the IREE style (a single value fills the array)
//   FILE.npy, 2x3xf32=1,2,3, @random   the next array not bound yet
//   FILE.npz            members named after arrays (or arr_0, arr_1, ... by index)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "format/artifact.h"
#include "format/literal.h"
#include "format/status.h"

namespace pjit {

struct BindingOptions {
  std::string flag = "--input";  // names the flag in errors
  std::string what = "input";    // names the arrays in errors: "input 0 (x)"
  uint64_t seed = 0;             // for @random
  bool require_all = true;       // else a slot nobody binds gets an empty Literal (dtype invalid)
};

// One global array per slot, in slot order; a slot is bound at most once.
StatusOr<std::vector<Literal>> BindArrays(const std::vector<ArrayInfo>& slots, const std::vector<std::string>& specs,
                                          const BindingOptions& options);

// "2x3xf32=1,2,3" → that array; errors name `spec`. One larger than kMaxLiteralBytes is an
// error, before anything is allocated.
inline constexpr uint64_t kMaxLiteralBytes = uint64_t{1} << 30;
StatusOr<Literal> ParseArrayLiteral(const std::string& spec);

}  // namespace pjit
