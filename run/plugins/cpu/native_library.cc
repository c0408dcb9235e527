#include "run/plugins/cpu/native_library.h"

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pjit {

StatusOr<std::unique_ptr<NativeLibrary>> NativeLibrary::Load(std::string_view elf, const std::string& name) {
  int fd = memfd_create("pjit-x86_64", MFD_CLOEXEC);
  if (fd < 0) return Internal(name, ": memfd_create: ", std::strerror(errno));
  for (size_t done = 0; done < elf.size();) {
    ssize_t n = write(fd, elf.data() + done, elf.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      close(fd);
      return Internal(name, ": writing the x86_64 binary to a memfd: ", std::strerror(e));
    }
    done += static_cast<size_t>(n);
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  close(fd);  // the mapping keeps the file alive
  if (!handle) return InvalidArgument(name, ": section 'executables': the x86_64 binary does not load: ", dlerror());
  return std::unique_ptr<NativeLibrary>(new NativeLibrary(handle, name));
}

NativeLibrary::~NativeLibrary() { dlclose(handle_); }

StatusOr<LoopKernel> NativeLibrary::Kernel(const std::string& symbol) const {
  void* f = dlsym(handle_, symbol.c_str());
  if (!f) return InvalidArgument(name_, ": section 'executables': the x86_64 binary has no kernel '", symbol, "'");
  return reinterpret_cast<LoopKernel>(f);
}

}  // namespace pjit
