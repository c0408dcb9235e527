#include "format/host_memory.h"

#include <sys/mman.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <new>

namespace pjit {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
// Freed blocks kept mapped, at most this many bytes; beyond it blocks are unmapped.
constexpr size_t kCacheLimit = size_t{2} << 30;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kCacheBlocks = false;  // sanitizers check the memory they allocate themselves
#else
constexpr bool kCacheBlocks = true;
#endif

// A cache line, as the buffer plan aligns its slices: kernels stream only to aligned outputs.
constexpr std::align_val_t kSmallBlockAlignment{64};

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

class BlockCache {
 public:
  ~BlockCache() { Release(); }

  void* Take(size_t size) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.find(size);
    if (it == free_.end()) return nullptr;
    void* p = it->second;
    free_.erase(it);
    cached_ -= size;
    return p;
  }
  bool Keep(void* p, size_t size) {
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_ + size > kCacheLimit) return false;
    free_.emplace(size, p);
    cached_ += size;
    return true;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [size, p] : free_) munmap(p, size);
    free_.clear();
    cached_ = 0;
  }
  size_t cached() {
    std::lock_guard<std::mutex> lock(mu_);
    return cached_;
  }

 private:
  std::mutex mu_;
  std::multimap<size_t, void*> free_;
  size_t cached_ = 0;
};

BlockCache& Cache() {
  static BlockCache* cache = new BlockCache();  // never destroyed: arrays may outlive static destructors
  return *cache;
}

// A 2 MiB-aligned mapping of `size` bytes (a multiple of 2 MiB) with huge pages requested.
void* MapBlock(size_t size) {
  void* raw = mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = RoundUp(start, kHugePage);
  if (aligned > start) munmap(raw, aligned - start);
  if (uintptr_t end = start + size + kHugePage; end > aligned + size) munmap(reinterpret_cast<void*>(aligned + size), end - aligned - size);
  void* p = reinterpret_cast<void*>(aligned);
  madvise(p, size, MADV_HUGEPAGE);
  return p;
}

}  // namespace

void* AllocateHostBytes(size_t bytes) {
  if (!kCacheBlocks || bytes < kLargeHostBlock) return ::operator new(bytes, kSmallBlockAlignment);
  size_t size = RoundUp(bytes, kHugePage);
  if (void* p = Cache().Take(size)) return p;
  return MapBlock(size);
}

void FreeHostBytes(void* p, size_t bytes) {
  if (!kCacheBlocks || bytes < kLargeHostBlock) {
    ::operator delete(p, kSmallBlockAlignment);
    return;
  }
  size_t size = RoundUp(bytes, kHugePage);
  if (!Cache().Keep(p, size)) munmap(p, size);
}

void ReleaseCachedHostBlocks() { Cache().Release(); }

size_t CachedHostBytes() { return Cache().cached(); }

}  // namespace pjit
