#include "run/plugins/cpu/collective_ops.h"

#include <cstring>

#include "format/literal.h"
#include "format/elementwise.h"
#include "run/plugins/thunk_plan.h"

namespace pjit {
namespace {

// out[i] = reduce over members of in_j[first + i], for i < count.
void Reduce(const CollectiveThunk& t, const std::vector<const std::byte*>& inputs, std::byte* out, uint64_t first, uint64_t count) {
  Opcode op = *OpcodeFromName(t.reduction);  // checked when the artifact was read
  VisitDType(t.dtype, [&]<typename T>() {
    T* o = reinterpret_cast<T*>(out);
    for (uint64_t i = 0; i < count; ++i) {
      T acc;
      std::memcpy(&acc, inputs[0] + (first + i) * sizeof(T), sizeof(T));
      for (size_t j = 1; j < inputs.size(); ++j) {
        T v;
        std::memcpy(&v, inputs[j] + (first + i) * sizeof(T), sizeof(T));
        acc = elementwise::ApplyBinary<T>(op, acc, v);
      }
      std::memcpy(o + i, &acc, sizeof(T));
    }
  });
}

}  // namespace

void RunCollective(const CollectiveThunk& t, const MemberAddress& address, size_t g, size_t rank, int64_t source) {
  for (size_t k = 0; k < t.inputs.size(); ++k) {
    std::vector<const std::byte*> in(g);
    for (size_t j = 0; j < g; ++j) in[j] = address(j, t.inputs[k]);
    std::byte* out = address(rank, t.outputs[k]);
    if (t.kind == "all-reduce") {
      Reduce(t, in, out, 0, CollectiveElements(t));
    } else if (t.kind == "collective-permute") {
      if (source < 0) std::memset(out, 0, t.outputs[k].size);
      else std::memcpy(out, in[static_cast<size_t>(source)], t.outputs[k].size);
    } else if (t.kind == "all-gather") {
      CollectiveSplit s = SplitAtDimension(t);
      uint64_t row = s.extent * s.inner;
      for (uint64_t o = 0; o < s.outer; ++o)
        for (size_t j = 0; j < g; ++j) std::memcpy(out + (o * g + j) * row, in[j] + o * row, row);
    } else if (t.kind == "reduce-scatter") {
      CollectiveSplit s = SplitAtDimension(t);
      uint64_t chunk = s.extent / g * s.inner, w = static_cast<uint64_t>(DTypeByteSize(t.dtype));
      for (uint64_t o = 0; o < s.outer; ++o)
        Reduce(t, in, out + o * chunk, (o * s.extent * s.inner + rank * chunk) / w, chunk / w);
    } else {  // all-to-all: chunk j of my output is chunk `rank` of member j's input
      CollectiveSplit s = SplitAtDimension(t);
      uint64_t chunk = s.extent / g * s.inner;
      for (uint64_t o = 0; o < s.outer; ++o)
        for (size_t j = 0; j < g; ++j) std::memcpy(out + o * s.extent * s.inner + j * chunk, in[j] + o * s.extent * s.inner + rank * chunk, chunk);
    }
  }
}

}  // namespace pjit
