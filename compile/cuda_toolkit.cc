#include "compile/cuda_toolkit.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "format/file_util.h"

extern char** environ;

namespace pjit {
namespace {

CudaToolkit ToolkitAt(const std::string& root) {
  namespace fs = std::filesystem;
  CudaToolkit t;
  std::error_code ec;
  if (root.empty() || !fs::is_directory(root, ec)) return t;
  std::string libdevice = root + "/nvvm/libdevice/libdevice.10.bc";
  std::string ptxas = root + "/bin/ptxas";
  if (fs::is_regular_file(libdevice, ec)) t.libdevice = libdevice;
  if (fs::is_regular_file(ptxas, ec)) t.ptxas = ptxas;
  if (!t.libdevice.empty() || !t.ptxas.empty()) t.root = root;
  return t;
}

}  // namespace

CudaToolkit FindCudaToolkit() {
  std::vector<std::string> roots;
  for (const char* var : {"CUDA_HOME", "CUDA_PATH"})
    if (const char* v = std::getenv(var); v && *v) roots.push_back(v);
#ifdef PJIT_CUDA_TOOLKIT_DIR
  roots.push_back(PJIT_CUDA_TOOLKIT_DIR);
#endif
  roots.push_back("/usr/local/cuda");
  for (const std::string& r : roots)
    if (CudaToolkit t = ToolkitAt(r); !t.root.empty()) return t;
  return {};
}

StatusOr<std::string> AssemblePtx(const std::string& ptxas, const std::string& ptx, const std::string& arch) {
  PJIT_ASSIGN_OR_RETURN(TemporaryDirectory dir, TemporaryDirectory::Create("ptxas"));
  std::string in = dir.Path("kernels.ptx"), out = dir.Path("kernels.cubin"), log = dir.Path("ptxas.log");
  PJIT_RETURN_IF_ERROR(WriteFileAtomically(in, ptx));
  std::string arch_flag = "-arch=" + arch;
  std::vector<std::string> args = {ptxas, arch_flag, "-O3", "-o", out, in};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, ptxas.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return Internal("cannot run ", ptxas, ": ", std::strerror(spawned));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return Internal("waiting for ", ptxas, ": ", std::strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    StatusOr<std::string> messages = ReadFileToString(log);
    std::string text = messages.ok() ? *messages : std::string();
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    for (char& c : text)
      if (c == '\n') c = ';';
    return Internal("ptxas -arch=", arch, " rejected the generated PTX: ", text.empty() ? "no message" : text);
  }
  return ReadFileToString(out);
}

}  // namespace pjit
