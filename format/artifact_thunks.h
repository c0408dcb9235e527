// Thunk plans ⇄ the THUNKS and EXECUTABLES sections. Internal to the artifact writer and reader.
#pragma once

#include "format/artifact_generated.h"
#include "format/status.h"
#include "format/thunks.h"

namespace pjit {

flatbuffers::Offset<fb::ThunkSequences> ThunkSequencesToFlatBuffer(flatbuffers::FlatBufferBuilder& b,
                                                                   const std::vector<ThunkSequence>& sequences);
flatbuffers::Offset<fb::Executables> ExecutablesToFlatBuffer(flatbuffers::FlatBufferBuilder& b,
                                                             const std::vector<ExecutableInfo>& executables);

// Checks what a runtime relies on: every slice inside its arena, executable indices in range,
// array dtypes, collective kinds; errors name the sequence and thunk.
StatusOr<ThunkPlan> ThunkPlanFromFlatBuffer(const fb::ThunkSequences* sequences, const fb::Executables* executables);

}  // namespace pjit
