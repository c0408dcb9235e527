// Thunk plans ⇄ the THUNKS and EXECUTABLES sections. Internal to the artifact writer and reader.
#pragma once

#include <functional>
#include <string_view>

#include "format/artifact_generated.h"
#include "format/status.h"
#include "format/thunks.h"

namespace pjit {

flatbuffers::Offset<fb::ThunkSequences> ThunkSequencesToFlatBuffer(flatbuffers::FlatBufferBuilder& b,
                                                                   const std::vector<ThunkSequence>& sequences);
// blobs[i]: the blob holding executables[i].binary (unused for format "hlo").
flatbuffers::Offset<fb::Executables> ExecutablesToFlatBuffer(flatbuffers::FlatBufferBuilder& b,
                                                             const std::vector<ExecutableInfo>& executables,
                                                             const std::vector<uint32_t>& blobs);

// The bytes of blob `index`, or an error naming it.
using BlobLookup = std::function<StatusOr<std::string_view>(uint32_t index)>;

// Checks what a runtime relies on: every slice inside its arena, executable indices in range,
// array dtypes, collective kinds; errors name the sequence and thunk.
StatusOr<ThunkPlan> ThunkPlanFromFlatBuffer(const fb::ThunkSequences* sequences, const fb::Executables* executables,
                                            const BlobLookup& blob);

}  // namespace pjit
