// Content hashes of artifact sections and blobs: XXH3-64 (libxxhash).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace pjit {

uint64_t ContentHash(const void* data, size_t size);
inline uint64_t ContentHash(std::string_view bytes) { return ContentHash(bytes.data(), bytes.size()); }
// The hash of the pieces one after the other, as if they were one string.
uint64_t ContentHash(std::initializer_list<std::string_view> pieces);

}  // namespace pjit
