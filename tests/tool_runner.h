// Runs a pjit tool as a user does, from the build tree, for the end-to-end suites.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace pjit::testing {

struct Result {
  int exit_code;       // -1 when the tool did not exit normally (a crash, a signal)
  std::string output;  // stdout and stderr
};

// Runs "`PJIT_TOOLS_DIR`/<args>" through the shell (so args may redirect), after `setup`
// (shell commands such as "umask 077;").
inline Result Tool(const std::string& args, const std::string& setup = "") {
  std::string cmd = setup + " " + std::string(PJIT_TOOLS_DIR) + "/" + args + " 2>&1";
  Result r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace pjit::testing
