// pjit-inspect --memory: what a device's arena holds. From the thunk plan's buffer table: the
// arena and the peak of live bytes, the program position where the peak happens and the
// buffers live there (largest first), and totals of parameters, outputs, constants and
// temporaries, next to the global (unsharded) bytes of the inputs and outputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "format/artifact.h"
#include "format/hlo_module.h"
#include "format/status.h"
#include "format/thunks.h"
#include "inspect/json_writer.h"

namespace pjit {

inline constexpr int kBufferKinds = static_cast<int>(BufferInfo::Kind::kScratch) + 1;

struct MemoryReport {
  int64_t device = -1;  // -1: the plan every device runs
  int64_t num_devices = 1;
  uint64_t arena_bytes = 0;
  uint64_t peak_bytes = 0;                  // recomputed from the buffer table
  int64_t peak_position = 0;                // entry position where the peak is first reached
  std::string peak_instruction;             // the instruction at that position
  struct LiveBuffer {
    const BufferInfo* buffer;
    std::string name;   // instruction, and {leaf} for a tuple's leaf
    std::string shape;  // of the leaf, per device
  };
  std::vector<LiveBuffer> live_at_peak;     // largest first
  uint64_t kind_bytes[kBufferKinds] = {};  // by BufferInfo::Kind
  int64_t kind_count[kBufferKinds] = {};
  uint64_t global_input_bytes = 0, global_output_bytes = 0;  // the unsharded arrays
};

// One report per thunk sequence of the plan.
StatusOr<std::vector<MemoryReport>> BuildMemoryReports(const ThunkPlan& plan, const Module& device_program,
                                                       const Signature& signature, int64_t num_devices);

// `limit` caps the buffers listed at the peak (0: all).
std::string MemoryText(const std::vector<MemoryReport>& reports, size_t limit);
void MemoryJson(const std::vector<MemoryReport>& reports, JsonWriter& j);

const char* BufferKindName(BufferInfo::Kind kind);

}  // namespace pjit
