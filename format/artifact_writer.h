// Writes .pjit artifacts. Deterministic: the same contents give the same bytes.
#pragma once

#include <string>

#include "format/artifact.h"
#include "format/status.h"

namespace pjit {

StatusOr<std::string> SerializeArtifact(const ArtifactContents& contents);

// Writes atomically (temp file + rename); path "-" writes to standard output.
Status WriteArtifact(const std::string& path, const ArtifactContents& contents);

}  // namespace pjit
