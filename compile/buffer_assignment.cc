#include "compile/buffer_assignment.h"

#include <algorithm>
#include <limits>

namespace pjit {
namespace {

uint64_t AlignUp(uint64_t n) { return (n + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment; }

// The most bytes live at one position (a buffer is live from defined_at through last_use).
uint64_t PeakBytes(const std::vector<LogicalBuffer>& buffers) {
  std::vector<std::pair<int64_t, int64_t>> events;  // (position, +size at definition / -size after the last use)
  for (const LogicalBuffer& b : buffers) {
    if (!b.size) continue;
    events.push_back({b.defined_at, static_cast<int64_t>(b.size)});
    if (b.last_use < std::numeric_limits<int64_t>::max())  // results live to the end
      events.push_back({std::max(b.last_use, b.defined_at) + 1, -static_cast<int64_t>(b.size)});
  }
  std::sort(events.begin(), events.end());  // frees before definitions at one position
  int64_t live = 0, peak = 0;
  for (const auto& [pos, delta] : events) {
    live += delta;
    peak = std::max(peak, live);
  }
  return static_cast<uint64_t>(peak);
}

}  // namespace

BufferAssignment AssignBuffers(const std::vector<LogicalBuffer>& buffers) {
  BufferAssignment out;
  out.offsets.assign(buffers.size(), 0);
  out.peak_bytes = PeakBytes(buffers);
  // Lifetimes; a pinned buffer lives for the whole program.
  constexpr int64_t kAlways = std::numeric_limits<int64_t>::max();
  auto first = [&](size_t b) { return buffers[b].pinned ? std::numeric_limits<int64_t>::min() : buffers[b].defined_at; };
  // A buffer nobody reads is still written where it is defined.
  auto last = [&](size_t b) { return buffers[b].pinned ? kAlways : std::max(buffers[b].last_use, buffers[b].defined_at); };
  std::vector<size_t> order;
  for (size_t b = 0; b < buffers.size(); ++b)
    if (buffers[b].size) order.push_back(b);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (buffers[a].size != buffers[b].size) return buffers[a].size > buffers[b].size;
    return first(a) < first(b);
  });
  std::vector<size_t> placed;
  std::vector<std::pair<uint64_t, uint64_t>> taken;  // [offset, end) of placed buffers live at the same time
  for (size_t b : order) {
    taken.clear();
    for (size_t p : placed)
      if (first(p) <= last(b) && first(b) <= last(p)) taken.push_back({out.offsets[p], out.offsets[p] + buffers[p].size});
    std::sort(taken.begin(), taken.end());
    // The smallest gap between them that fits (best fit), else the lowest free offset above them.
    const uint64_t size = buffers[b].size;
    uint64_t at = 0, best = std::numeric_limits<uint64_t>::max(), best_gap = std::numeric_limits<uint64_t>::max();
    for (const auto& [start, end] : taken) {
      if (start >= at + size && start - at < best_gap) {
        best = at;
        best_gap = start - at;
      }
      at = std::max(at, AlignUp(end));
    }
    out.offsets[b] = best != std::numeric_limits<uint64_t>::max() ? best : at;
    out.arena_bytes = std::max(out.arena_bytes, out.offsets[b] + size);
    placed.push_back(b);
  }
  return out;
}

}  // namespace pjit
