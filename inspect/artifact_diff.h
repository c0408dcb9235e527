// pjit-inspect --diff OTHER: what changed between two artifacts of one model, for "what did my
// sharding change do" reviews: the mesh, input and output shardings, the shardings of global
// instructions, collectives (totals, and those only one side has, keyed by kind, cause and
// moved value) and per-device memory. "-" lines are the first artifact's, "+" the other's.
#pragma once

#include <string>

#include "inspect/collective_report.h"
#include "inspect/inspected_artifact.h"
#include "inspect/json_writer.h"

namespace pjit {

std::string DiffText(const InspectedArtifact& a, const InspectedArtifact& b, const LinkModel& link);
void DiffJson(const InspectedArtifact& a, const InspectedArtifact& b, const LinkModel& link, JsonWriter& j);

}  // namespace pjit
