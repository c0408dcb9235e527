// What every pjit tool returns, and how it reports a failed Status.
#pragma once

#include <cstdio>

#include "format/status.h"

namespace pjit {

// kExitMismatch: pjit-run ran, but an output differs from its --expected-output.
enum ExitCode { kExitOk = 0, kExitError = 1, kExitUsage = 2, kExitMismatch = 3 };

// Prints "<tool>: error: <message>" on stderr and returns the exit code for `status`.
inline int ReportStatus(const char* tool, const Status& status) {
  if (status.ok()) return kExitOk;
  std::fprintf(stderr, "%s: error: %s\n", tool, status.message().c_str());
  return kExitError;
}

}  // namespace pjit
