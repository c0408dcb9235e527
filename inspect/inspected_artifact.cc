#include "inspect/inspected_artifact.h"

#include <algorithm>

namespace pjit {

const LoadedDeviceProgram* InspectedArtifact::ProgramOf(int64_t device) const {
  for (const LoadedDeviceProgram& p : device_programs)
    if (device < 0 || std::count(p.devices.begin(), p.devices.end(), device)) return &p;
  return nullptr;
}

uint64_t InspectedArtifact::peak_bytes() const {
  uint64_t peak = 0;
  for (const ThunkSequence& s : plan.sequences) peak = std::max(peak, s.peak_bytes);
  return peak;
}

uint64_t InspectedArtifact::arena_bytes() const {
  uint64_t arena = 0;
  for (const ThunkSequence& s : plan.sequences) arena = std::max(arena, s.arena_bytes);
  return arena;
}

StatusOr<InspectedArtifact> LoadForInspection(const std::string& path) {
  PJIT_ASSIGN_OR_RETURN(bool artifact, IsArtifactFile(path));
  if (!artifact) return InvalidArgument(path, ": not a .pjit artifact (this view needs one; compile the module with pjit-compile)");
  InspectedArtifact a;
  a.path = path;
  PJIT_ASSIGN_OR_RETURN(a.reader, ArtifactReader::Open(path));
  PJIT_ASSIGN_OR_RETURN(a.global, a.reader->LoadProgram());
  PJIT_ASSIGN_OR_RETURN(a.device_programs, a.reader->LoadDevicePrograms());
  PJIT_ASSIGN_OR_RETURN(a.plan, a.reader->LoadThunks());
  return a;
}

}  // namespace pjit
