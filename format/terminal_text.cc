#include "format/terminal_text.h"

#include <cstdio>

namespace pjit {
namespace {

void AppendEscaped(std::string& out, unsigned char c) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "\\x%02x", c);
  out += hex;
}

// The length of the SGR sequence at text[i] (ESC [ [0-9;]* m), or 0.
size_t SgrLength(std::string_view text, size_t i) {
  if (i + 2 >= text.size() || text[i] != '\x1b' || text[i + 1] != '[') return 0;
  for (size_t j = i + 2; j < text.size(); ++j) {
    if (text[j] == 'm') return j - i + 1;
    if (!(text[j] == ';' || (text[j] >= '0' && text[j] <= '9'))) return 0;
  }
  return 0;
}

}  // namespace

std::string TerminalSafe(std::string_view text, bool keep_colours) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (keep_colours) {
      if (size_t n = SgrLength(text, i)) {
        out.append(text.substr(i, n));
        i += n - 1;
        continue;
      }
    }
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
      AppendEscaped(out, c);
    } else if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      AppendEscaped(out, c);
      AppendEscaped(out, static_cast<unsigned char>(text[++i]));
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace pjit
