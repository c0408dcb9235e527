// pjit-inspect's default view of a .pjit artifact: producer and flags, the mesh and its device
// grid, inputs and outputs (global shape, PartitionSpec, HloSharding, per-device shard shape),
// totals of collectives and bytes, peak memory per device, targets and binary sizes, and the
// sections. As text or as JSON (the schema is in man/pjit-inspect.1).
#pragma once

#include <string>

#include "inspect/collective_report.h"
#include "inspect/inspected_artifact.h"

namespace pjit {

std::string SummarizeArtifact(const InspectedArtifact& artifact, const LinkModel& link);
std::string SummarizeArtifactJson(const InspectedArtifact& artifact, const LinkModel& link);

}  // namespace pjit
