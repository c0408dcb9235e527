#include "format/plan_memory.h"

#include <algorithm>
#include <tuple>

namespace pjit {

StatusOr<PlanPeak> FindPlanPeak(const ThunkSequence& seq, int64_t end) {
  PlanPeak peak;
  // Live bytes at each position: a sweep over definitions and deaths. Buffers of one slice
  // count once where their ranges meet (an output written in place of the input it read last).
  std::vector<int64_t> delta(static_cast<size_t>(end) + 2, 0);
  std::vector<const BufferInfo*> by_slice;
  for (const BufferInfo& b : seq.buffers) {
    if (b.last_use > end) return InvalidArgument("thunks: buffer of ", b.instruction, " is live past the program's end");
    if (b.defined_at < 0 || b.defined_at > end) return InvalidArgument("thunks: buffer of ", b.instruction, " is defined outside the program");
    if (b.defined_at <= b.last_use) by_slice.push_back(&b);  // else never live
  }
  std::stable_sort(by_slice.begin(), by_slice.end(), [](const BufferInfo* a, const BufferInfo* b) {
    return std::tie(a->slice.offset, a->slice.size, a->defined_at) < std::tie(b->slice.offset, b->slice.size, b->defined_at);
  });
  for (size_t i = 0; i < by_slice.size(); ++i) {
    const BufferInfo& b = *by_slice[i];
    int64_t from = b.defined_at;
    if (i && by_slice[i - 1]->slice == b.slice) from = std::max(from, by_slice[i - 1]->last_use + 1);
    if (from > b.last_use) continue;
    delta[static_cast<size_t>(from)] += static_cast<int64_t>(b.slice.size);
    delta[static_cast<size_t>(b.last_use) + 1] -= static_cast<int64_t>(b.slice.size);
  }
  int64_t live = 0;
  for (int64_t p = 0; p <= end; ++p) {
    live += delta[static_cast<size_t>(p)];
    if (static_cast<uint64_t>(live) > peak.bytes) {
      peak.bytes = static_cast<uint64_t>(live);
      peak.position = p;
    }
  }
  for (const BufferInfo& b : seq.buffers)
    if (b.defined_at <= peak.position && peak.position <= b.last_use) peak.live.push_back(&b);
  std::stable_sort(peak.live.begin(), peak.live.end(), [](const BufferInfo* a, const BufferInfo* b) { return a->slice.size > b->slice.size; });
  return peak;
}

const Instruction* BufferOwner(const BufferInfo& b, const Module& program) {
  std::string_view name = b.instruction;
  const Computation* c = program.entry;
  if (size_t slash = name.find('/'); slash != std::string_view::npos) {
    c = program.FindComputation(name.substr(0, slash));
    name = name.substr(slash + 1);
  }
  return c ? c->Find(name) : nullptr;
}

std::string BufferShape(const BufferInfo& b, const Module& program) {
  const Instruction* in = BufferOwner(b, program);
  if (!in) return "";
  std::vector<const Shape*> leaves = LeafShapes(in->shape);
  return b.leaf < leaves.size() ? leaves[b.leaf]->ToString(false) : "";
}

}  // namespace pjit
