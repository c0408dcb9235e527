#include "format/content_hash.h"

#include <memory>
#include <new>

#include <xxhash.h>

namespace pjit {

uint64_t ContentHash(const void* data, size_t size) { return XXH3_64bits(data, size); }

uint64_t ContentHash(std::initializer_list<std::string_view> pieces) {
  std::unique_ptr<XXH3_state_t, XXH_errorcode (*)(XXH3_state_t*)> state(XXH3_createState(), XXH3_freeState);
  if (!state) throw std::bad_alloc();
  XXH3_64bits_reset(state.get());
  for (std::string_view p : pieces) XXH3_64bits_update(state.get(), p.data(), p.size());
  return XXH3_64bits_digest(state.get());
}

}  // namespace pjit
