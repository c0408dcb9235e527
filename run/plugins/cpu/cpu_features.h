// Whether this CPU runs the x86_64 code of an artifact: every instruction set extension the
// compiler recorded for it (ExecutableInfo::cpu_features) must be present, or loading fails
// with a message that says which is missing and how to recompile, instead of a SIGILL later.
#pragma once

#include <optional>
#include <string>

#include "format/status.h"
#include "format/thunks.h"

namespace pjit {

// True, false, or nullopt for an extension this runtime does not know how to check.
std::optional<bool> CpuSupports(const std::string& feature);

Status CheckCpuFeatures(const ExecutableInfo& executable, const std::string& artifact);

}  // namespace pjit
