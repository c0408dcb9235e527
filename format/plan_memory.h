// Where a device's memory goes, from a thunk plan's buffer table: the peak of live bytes, the
// program position where it is first reached and the buffers live there. pjit-inspect
// --memory shows it; pjit-compile --memory-limit names it when a device would not fit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "format/hlo_module.h"
#include "format/status.h"
#include "format/thunks.h"

namespace pjit {

struct PlanPeak {
  uint64_t bytes = 0;
  int64_t position = 0;                 // entry position where the peak is first reached
  std::vector<const BufferInfo*> live;  // the buffers live there, largest first
};

// `positions`: the entry's instruction count; a buffer live past it is an error.
StatusOr<PlanPeak> FindPlanPeak(const ThunkSequence& sequence, int64_t positions);

// The instruction whose value a buffer holds: an entry instruction, or for a name
// "COMPUTATION/NAME" one of a while's or conditional's computations; null when there is none.
const Instruction* BufferOwner(const BufferInfo& buffer, const Module& program);

// The per-device shape of a buffer ("f32[4,32]": its owner's leaf), or "" when the program
// has no such instruction or leaf.
std::string BufferShape(const BufferInfo& buffer, const Module& program);

}  // namespace pjit
