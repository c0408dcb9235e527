// The data movement of a collective thunk on the CPU: once its group has met, each device
// computes its own output straight from the other members' arenas (shared memory, no copy
// to a staging buffer). Every member reduces in the same rank order, so results agree bitwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "format/status.h"
#include "format/thunks.h"

namespace pjit {

// The bytes each input and output slice of `t` must have for a group of `group_size`.
Status CheckCollectiveSizes(const CollectiveThunk& t, size_t group_size);

// Writes the outputs of the member at `rank` (whose arena is `peers[rank]`), reading inputs
// from `peers` (member j's arena). For collective-permute the group is every device and
// `source` is the rank this device receives from, or -1 (its output is zeros).
void RunCollective(const CollectiveThunk& t, const std::vector<std::byte*>& peers, size_t rank, int64_t source);

}  // namespace pjit
