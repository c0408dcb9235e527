// Writing output files so that a reader never sees a half-written one.
#pragma once

#include <string>
#include <string_view>

#include "format/status.h"

namespace pjit {

// Writes `contents` to a temporary file next to `path`, then renames it over `path`.
Status WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace pjit
