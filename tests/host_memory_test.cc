// Host array storage: every block is 64-byte aligned, large ones 2 MiB aligned and recycled,
// within a bounded cache, and recycling never leaks old bytes into an array that promises zeros.
#include "format/host_memory.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "format/literal.h"

namespace pjit {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kCached = false;
#else
constexpr bool kCached = true;
#endif

TEST(HostMemory, LargeArraysAreRecycledAndZeroFilledWhenAsked) {
  ReleaseCachedHostBlocks();
  const Shape shape = Shape::Array(DType::kF32, {1024, 1024});  // 4 MiB
  const std::byte* first;
  {
    Literal scratch = Literal::ForOverwrite(shape);
    first = scratch.bytes().data();
    if (kCached) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % (2 << 20), 0u) << "huge-page aligned";
    }
    for (std::byte& b : scratch.bytes()) b = std::byte{0xab};
  }
  if (kCached) {
    EXPECT_EQ(CachedHostBytes(), size_t{4} << 20);
  }
  Literal zeros(shape);
  if (kCached) {
    EXPECT_EQ(zeros.bytes().data(), first) << "the freed block is reused";
  }
  for (std::byte b : zeros.bytes()) ASSERT_EQ(b, std::byte{0});
  EXPECT_EQ(CachedHostBytes(), 0u);
}

TEST(HostMemory, CopiesAreDeepAndSmallArraysUseTheHeap) {
  Literal a = Literal::ForOverwrite(Shape::Array(DType::kS32, {3}));
  for (int i = 0; i < 3; ++i) a.Set<int32_t>(i, i + 1);
  Literal b = a;
  b.Set<int32_t>(0, 7);
  EXPECT_EQ(a.Get<int32_t>(0), 1);
  EXPECT_EQ(b.Get<int32_t>(2), 3);
  EXPECT_FALSE(a == b);
  b.Set<int32_t>(0, 1);
  EXPECT_TRUE(a == b);
}

// Kernels stream their stores only into outputs that start on a cache line (EmitLoopKernel).
TEST(HostMemory, EveryArrayStartsOnACacheLine) {
  for (int64_t n : {1, 3, 17, 1000, 300000, 1 << 20}) {
    std::vector<Literal> arrays;
    for (int k = 0; k < 8; ++k) arrays.push_back(Literal::ForOverwrite(Shape::Array(DType::kU8, {n})));
    for (const Literal& a : arrays) EXPECT_EQ(reinterpret_cast<uintptr_t>(a.bytes().data()) % 64, 0u) << n << " bytes";
  }
}

TEST(HostMemory, TheCacheIsBounded) {
  ReleaseCachedHostBlocks();
  const size_t gib = size_t{1} << 30;
  std::vector<void*> blocks;
  for (int i = 0; i < 3; ++i) blocks.push_back(AllocateHostBytes(gib));  // mapped, never touched
  for (void* p : blocks) FreeHostBytes(p, gib);
  EXPECT_LE(CachedHostBytes(), size_t{2} << 30);
  if (kCached) {
    EXPECT_GT(CachedHostBytes(), 0u);
  }
  ReleaseCachedHostBlocks();
  EXPECT_EQ(CachedHostBytes(), 0u);
}

}  // namespace
}  // namespace pjit
