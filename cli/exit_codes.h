// What every pjit tool returns, and how it reports a failed Status.
#pragma once

#include <cstdio>
#include <exception>
#include <new>

#include "format/status.h"
#include "format/terminal_text.h"

namespace pjit {

// kExitMismatch: pjit-run ran, but an output differs from its --expected-output.
enum ExitCode { kExitOk = 0, kExitError = 1, kExitUsage = 2, kExitMismatch = 3 };

// Prints "<tool>: error: <message>" on stderr and returns the exit code for `status`.
inline int ReportStatus(const char* tool, const Status& status) {
  if (status.ok()) return kExitOk;
  std::fprintf(stderr, "%s: error: %s\n", tool, TerminalSafe(status.message()).c_str());
  return kExitError;
}

// Runs a tool's body and turns anything it throws into one line and kExitError: no
// exception (std::bad_alloc on a huge input among them) leaves a tool as an abort.
template <typename Body>
int RunTool(const char* tool, Body&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "%s: error: out of host memory\n", tool);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", tool, TerminalSafe(e.what()).c_str());
  } catch (...) {
    std::fprintf(stderr, "%s: error: unexpected exception\n", tool);
  }
  return kExitError;
}

}  // namespace pjit
