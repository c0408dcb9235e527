// Static memory planning: where each buffer of a device's thunk sequence lives in its arena.
// Buffers whose lifetimes do not overlap share bytes; the plan is deterministic.
#pragma once

#include <cstdint>
#include <vector>

namespace pjit {

struct LogicalBuffer {
  uint64_t size = 0;
  int64_t defined_at = 0;  // position of the thunk that writes it (parameters: 0)
  int64_t last_use = 0;    // position of the last thunk that reads it (results: past the end)
  // Bytes of its own for the whole program, shared with no other buffer at any time: entry
  // parameters and results, which a runtime may then place in the caller's memory.
  bool pinned = false;
};

struct BufferAssignment {
  std::vector<uint64_t> offsets;  // by buffer
  uint64_t arena_bytes = 0;       // the end of the highest buffer
  uint64_t peak_bytes = 0;        // most bytes live at one position
};

inline constexpr uint64_t kBufferAlignment = 64;

// Places buffers largest first (ties: earliest defined), each in the smallest gap that fits
// among the buffers already placed whose lifetimes overlap its own (best fit, 64-byte
// aligned), else above them: the greedy-by-size heuristic of XLA's and TFLite's planners,
// which packs a program's big activations closer to its peak than placing in program order.
// A buffer is live from defined_at through last_use, so a thunk's output never overlaps its
// inputs; pinned buffers overlap every other.
BufferAssignment AssignBuffers(const std::vector<LogicalBuffer>& buffers);

}  // namespace pjit
