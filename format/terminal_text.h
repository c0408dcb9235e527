// Text read from files (names, paths, metadata, error messages that quote them) made safe to
// print on a terminal.
#pragma once

#include <string>
#include <string_view>

namespace pjit {

// Every control character but newline and tab (C0, DEL, and C1 as UTF-8 encodes it) becomes
// a visible \xNN escape, so a file cannot move the cursor, retitle the window or hide lines.
// With `keep_colours`, SGR sequences (ESC [ digits and ';' m), which only colour text, pass.
std::string TerminalSafe(std::string_view text, bool keep_colours = false);

}  // namespace pjit
