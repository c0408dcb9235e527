// NumPy .npy and .npz files, C order, little-endian. bfloat16 is stored as numpy's raw
// two-byte void type ('V2'), which is how ml_dtypes.bfloat16 arrays are saved. .npz files
// are zip archives of .npy members, uncompressed as np.savez writes them.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "format/literal.h"
#include "format/status.h"

namespace pjit {

StatusOr<Literal> ParseNpy(std::string_view bytes, std::string_view name);
std::string SerializeNpy(const Literal& array);
// The magic, version and header that precede an array's bytes in its .npy file.
std::string NpyHeader(const Literal& array);

StatusOr<Literal> ReadNpy(const std::string& path);
Status WriteNpy(const std::string& path, const Literal& array);

using NamedArrays = std::vector<std::pair<std::string, Literal>>;
StatusOr<NamedArrays> ReadNpz(const std::string& path);
Status WriteNpz(const std::string& path, const NamedArrays& arrays);

}  // namespace pjit
