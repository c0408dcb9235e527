// Everything pjit-inspect's views read from one artifact, loaded and checked once: the reader
// (header, mesh, signature, sections, blobs), the global program with its shardings and their
// provenance, the per-device programs and the thunk plan. Nothing in it is ever executed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "format/artifact_reader.h"
#include "format/hlo_module.h"
#include "format/status.h"
#include "format/thunks.h"

namespace pjit {

struct InspectedArtifact {
  std::string path;
  std::unique_ptr<ArtifactReader> reader;
  std::unique_ptr<Module> global;
  std::vector<LoadedDeviceProgram> device_programs;
  ThunkPlan plan;

  // The program device `device` runs (the first listed when -1); null when there is none.
  const LoadedDeviceProgram* ProgramOf(int64_t device) const;
  // The largest peak of live bytes and arena over the plan's devices (0 without a plan).
  uint64_t peak_bytes() const;
  uint64_t arena_bytes() const;
};

StatusOr<InspectedArtifact> LoadForInspection(const std::string& path);

}  // namespace pjit
