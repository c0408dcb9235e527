// The "x86_64" executable of an artifact (an ELF shared object) loaded straight from memory:
// the bytes go into an anonymous memfd that dlopen maps, so no temporary file is written and
// nothing is left behind. Only the cpu platform loads it; pjit-inspect never does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "format/status.h"

namespace pjit {

// A loop kernel: rows [begin, end) of its output; arguments are its slices' base addresses.
using LoopKernel = void (*)(void* const* arguments, int64_t begin, int64_t end);

class NativeLibrary {
 public:
  static StatusOr<std::unique_ptr<NativeLibrary>> Load(std::string_view elf, const std::string& name);
  ~NativeLibrary();
  NativeLibrary(const NativeLibrary&) = delete;
  NativeLibrary& operator=(const NativeLibrary&) = delete;

  StatusOr<LoopKernel> Kernel(const std::string& symbol) const;

 private:
  explicit NativeLibrary(void* handle, std::string name) : handle_(handle), name_(std::move(name)) {}
  void* handle_;
  std::string name_;
};

}  // namespace pjit
