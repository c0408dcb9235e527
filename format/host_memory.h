// Storage for the bytes of host arrays, each starting on a 64-byte cache line (kernels
// stream their stores only into such outputs). Large arrays (inputs, results, activations of MBs)
// come from 2 MiB-aligned mappings with transparent huge pages requested, and freed ones
// are kept for the next array of the same rounded size: a program run in a loop then
// writes its results into memory that is already mapped instead of taking a page fault
// (and the kernel zeroing a page) every 4 KiB of output on every run.
#pragma once

#include <cstddef>
#include <new>

namespace pjit {

// Bytes of at least kLargeHostBlock go to the block cache; smaller ones to operator new.
inline constexpr size_t kLargeHostBlock = size_t{1} << 20;

void* AllocateHostBytes(size_t bytes);
void FreeHostBytes(void* p, size_t bytes);
// Unmaps every cached block (tests; a process that wants its memory back).
void ReleaseCachedHostBlocks();
// Bytes in cached (freed, still mapped) blocks.
size_t CachedHostBytes();

// A std::allocator that leaves elements uninitialised when constructed without a value,
// so that vector::resize does not write a buffer that is about to be overwritten.
template <typename T>
struct HostAllocator {
  using value_type = T;
  HostAllocator() = default;
  template <typename U>
  HostAllocator(const HostAllocator<U>&) {}  // NOLINT: rebinding, as std::allocator
  T* allocate(size_t n) { return static_cast<T*>(AllocateHostBytes(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { FreeHostBytes(p, n * sizeof(T)); }
  template <typename U>
  void construct(U* p) { ::new (static_cast<void*>(p)) U; }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) { ::new (static_cast<void*>(p)) U(static_cast<Args&&>(args)...); }
  friend bool operator==(const HostAllocator&, const HostAllocator&) { return true; }
};

}  // namespace pjit
