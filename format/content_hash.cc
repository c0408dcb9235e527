#include "format/content_hash.h"

#include <xxhash.h>

namespace pjit {

uint64_t ContentHash(const void* data, size_t size) { return XXH3_64bits(data, size); }

}  // namespace pjit
