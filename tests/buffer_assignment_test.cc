// The arena plan, checked by brute force: buffers live at the same time never share bytes,
// pinned buffers share bytes with no buffer at all, every buffer fits in the arena, and the
// peak is the most bytes live at one position.
#include "compile/buffer_assignment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace pjit {
namespace {

TEST(BufferAssignmentTest, LiveBuffersNeverOverlapAndThePeakIsExact) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<LogicalBuffer> buffers;
    int positions = 1 + static_cast<int>(rng() % 30);
    for (int i = 0, n = static_cast<int>(rng() % 40); i < n; ++i) {
      int64_t def = rng() % positions, last = def + rng() % 6;
      buffers.push_back({static_cast<uint64_t>(rng() % 5 == 0 ? 0 : rng() % 1000), def, last, rng() % 4 == 0});
    }
    BufferAssignment plan = AssignBuffers(buffers);
    ASSERT_EQ(plan.offsets.size(), buffers.size());
    uint64_t peak = 0;
    for (int64_t p = 0; p < positions + 6; ++p) {
      uint64_t live = 0;
      for (const LogicalBuffer& b : buffers) live += b.defined_at <= p && p <= b.last_use ? b.size : 0;
      peak = std::max(peak, live);
    }
    EXPECT_EQ(plan.peak_bytes, peak);
    for (size_t i = 0; i < buffers.size(); ++i) {
      EXPECT_LE(plan.offsets[i] + buffers[i].size, plan.arena_bytes);
      EXPECT_TRUE(buffers[i].size == 0 || plan.offsets[i] % kBufferAlignment == 0) << "buffer " << i;
      for (size_t j = 0; j < i; ++j) {
        const LogicalBuffer &a = buffers[i], &b = buffers[j];
        bool live_together = a.defined_at <= b.last_use && b.defined_at <= a.last_use;
        bool share = plan.offsets[i] < plan.offsets[j] + b.size && plan.offsets[j] < plan.offsets[i] + a.size;
        EXPECT_FALSE(live_together && share && a.size && b.size) << "trial " << trial << ": buffers " << j << " and " << i;
        // A pinned buffer's bytes are its own for the whole program.
        EXPECT_FALSE((a.pinned || b.pinned) && share && a.size && b.size) << "trial " << trial << ": pinned " << j << " or " << i;
      }
    }
  }
}

}  // namespace
}  // namespace pjit
