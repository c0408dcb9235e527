// Reading input files, and writing output files so that a reader never sees a half-written one.
#pragma once

#include <string>
#include <string_view>

#include "format/status.h"

namespace pjit {

// Reads a whole file, or its first `n` bytes; errors name the path.
StatusOr<std::string> ReadFileToString(const std::string& path);
StatusOr<std::string> ReadFilePrefix(const std::string& path, size_t n);

// A fresh directory under the system's temporary directory ("pjit-<what>-XXXXXX"), removed
// with everything in it when the object goes.
class TemporaryDirectory {
 public:
  static StatusOr<TemporaryDirectory> Create(const std::string& what);
  TemporaryDirectory(TemporaryDirectory&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TemporaryDirectory& operator=(TemporaryDirectory&&) = delete;
  ~TemporaryDirectory();
  // `name` inside the directory.
  std::string Path(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit TemporaryDirectory(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Writes `contents` to a temporary file next to `path`, then renames it over `path`.
Status WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace pjit
