#include "compile/buffer_assignment.h"

#include <algorithm>
#include <iterator>
#include <map>

namespace pjit {

BufferAssignment AssignBuffers(const std::vector<LogicalBuffer>& buffers) {
  BufferAssignment out;
  out.offsets.assign(buffers.size(), 0);
  std::vector<size_t> order(buffers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return buffers[a].defined_at < buffers[b].defined_at; });
  std::map<uint64_t, uint64_t> used;                 // offset → end of the live buffers' ranges
  std::multimap<int64_t, size_t> dying;              // last_use → buffer
  std::multimap<int64_t, uint64_t> pinned_dying;     // last_use → size: leaves `live`, keeps its bytes
  uint64_t live = 0;
  for (size_t next = 0; next < order.size();) {
    int64_t pos = buffers[order[next]].defined_at;
    while (!dying.empty() && dying.begin()->first < pos) {
      size_t b = dying.begin()->second;
      used.erase(out.offsets[b]);
      live -= buffers[b].size;
      dying.erase(dying.begin());
    }
    while (!pinned_dying.empty() && pinned_dying.begin()->first < pos) {
      live -= pinned_dying.begin()->second;
      pinned_dying.erase(pinned_dying.begin());
    }
    for (; next < order.size() && buffers[order[next]].defined_at == pos; ++next) {
      size_t b = order[next];
      uint64_t size = buffers[b].size;
      if (size == 0) continue;  // empty arrays take no bytes (offset 0)
      uint64_t at = 0;
      if (buffers[b].pinned) {
        at = (out.arena_bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;  // bytes nobody used
      } else {
        for (const auto& [start, end] : used) {
          if (start >= at + size) break;
          at = std::max(at, (end + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment);
        }
      }
      out.offsets[b] = at;
      used[at] = at + size;
      out.arena_bytes = std::max(out.arena_bytes, at + buffers[b].size);
      live += buffers[b].size;
      if (buffers[b].pinned) pinned_dying.emplace(buffers[b].last_use, size);
      else dying.emplace(buffers[b].last_use, b);
    }
    out.peak_bytes = std::max(out.peak_bytes, live);
  }
  return out;
}

}  // namespace pjit
