#include "format/file_util.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pjit {

StatusOr<TemporaryDirectory> TemporaryDirectory::Create(const std::string& what) {
  std::string pattern = (std::filesystem::temp_directory_path() / ("pjit-" + what + "-XXXXXX")).string();
  if (!mkdtemp(pattern.data())) return IoError("cannot create a temporary directory for ", what, ": ", std::strerror(errno));
  return TemporaryDirectory(pattern);
}

TemporaryDirectory::~TemporaryDirectory() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot open '", path, "'");
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return IoError("cannot read '", path, "'");
  return out.str();
}

StatusOr<std::string> ReadFilePrefix(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot open '", path, "'");
  std::string out(n, '\0');
  in.read(out.data(), static_cast<std::streamsize>(n));
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}


Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = mkstemp(tmp.data());
  if (fd < 0) return IoError("cannot create '", path, "': ", std::strerror(errno));
  const char* p = contents.data();
  size_t left = contents.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return IoError("cannot write '", path, "': ", std::strerror(err));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  // mkstemp creates 0600; outputs are ordinary files.
  ::fchmod(fd, 0644);
  if (::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return IoError("cannot write '", path, "': ", std::strerror(err));
  }
  return OkStatus();
}

}  // namespace pjit
