// Reading input files, and writing output files so that a reader never sees a half-written one.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "format/status.h"

namespace pjit {

// Reads a whole file, or its first `n` bytes; errors name the path. Regular files and pipes
// only: a directory is refused by name, and a device (/dev/zero) could grow memory without
// bound. A pipe may hold at most kMaxPipeBytes.
inline constexpr size_t kMaxPipeBytes = size_t{1} << 30;
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

// Writes `pieces`, one after the other, to a temporary file next to `path`, then renames it
// over `path`. The file gets the mode an existing `path` has, else 0666 less the umask. The
// temporary file is removed if SIGINT, SIGTERM or SIGHUP ends the process while it is written
// (where the program has not set its own handler for that signal).
Status WriteFileAtomically(const std::string& path, std::initializer_list<std::string_view> pieces);
inline Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  return WriteFileAtomically(path, {contents});
}

// Whether two paths name the same file (same device and inode); false when either is missing.
bool SameFile(const std::string& a, const std::string& b);

}  // namespace pjit
