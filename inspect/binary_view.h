// pjit-inspect --binaries: the targets an artifact carries (format, kernels, binary size) and
// every blob; --extract NAME writes one binary (by target) or blob (by name) to a file for
// objdump, cuobjdump or numpy. Bytes are copied, never run.
#pragma once

#include <string>

#include "format/status.h"
#include "inspect/inspected_artifact.h"
#include "inspect/json_writer.h"

namespace pjit {

std::string BinariesText(const InspectedArtifact& a);
void BinariesJson(const InspectedArtifact& a, JsonWriter& j);

// Writes the binary of target `name`, else the blob named `name`, to `output` atomically and
// returns the tool's one line saying so; for output "-", returns the bytes themselves.
StatusOr<std::string> ExtractBinary(const InspectedArtifact& a, const std::string& name, const std::string& output);

}  // namespace pjit
