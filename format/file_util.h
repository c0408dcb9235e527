// Reading input files, and writing output files so that a reader never sees a half-written one.
#pragma once

#include <string>
#include <string_view>

#include "format/status.h"

namespace pjit {

// Reads a whole file, or its first `n` bytes; errors name the path.
StatusOr<std::string> ReadFileToString(const std::string& path);
StatusOr<std::string> ReadFilePrefix(const std::string& path, size_t n);

// Writes `contents` to a temporary file next to `path`, then renames it over `path`.
Status WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace pjit
