// The data movement of a collective thunk on the CPU: once its group has met, each device
// computes its own output straight from the other members' arenas (shared memory, no copy
// to a staging buffer). Every member reduces in the same rank order, so results agree bitwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "format/status.h"
#include "format/thunks.h"

namespace pjit {

// Where member `member` of the group holds `slice` (its arena, or the caller's memory).
using MemberAddress = std::function<std::byte*(size_t member, const BufferSlice& slice)>;

// Writes the outputs of the member at `rank`, reading the inputs of all `group_size` members.
// For collective-permute the group is every device and `source` is the rank this device
// receives from, or -1 (its output is zeros).
void RunCollective(const CollectiveThunk& t, const MemberAddress& address, size_t group_size, size_t rank, int64_t source);

}  // namespace pjit
