// Content hashes of artifact sections and blobs: XXH3-64 (libxxhash).
#pragma once

#include <cstdint>
#include <string_view>

namespace pjit {

uint64_t ContentHash(const void* data, size_t size);
inline uint64_t ContentHash(std::string_view bytes) { return ContentHash(bytes.data(), bytes.size()); }

}  // namespace pjit
