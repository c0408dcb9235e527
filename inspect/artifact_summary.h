// pjit-inspect's summary of a .pjit artifact: producer, mesh, inputs and outputs with
// shapes and shardings, sections and blobs with their sizes. As text or as JSON (the JSON
// schema is in man/pjit-inspect.1).
#pragma once

#include <string>

#include "format/artifact_reader.h"

namespace pjit {

std::string SummarizeArtifact(const ArtifactReader& artifact);
std::string SummarizeArtifactJson(const ArtifactReader& artifact);

}  // namespace pjit
