// A read-only memory mapping of a whole file, so that artifact constants and binaries are
// used in place without copying.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "format/status.h"

namespace pjit {

class MappedFile {
 public:
  static StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }

 private:
  MappedFile(void* data, size_t size) : data_(data), size_(size) {}
  void* data_;
  size_t size_;
};

}  // namespace pjit
