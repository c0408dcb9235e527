// Scanning helpers shared by the HLO text and sharding parsers.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace pjit {

// The offset just past the '}' that closes the '{' at `open`, skipping "strings" (with
// backslash escapes); nullopt when the braces are unbalanced.
inline std::optional<size_t> EndOfBraced(std::string_view text, size_t open) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = open; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{') ++depth;
    if (c == '}' && --depth == 0) return i + 1;
  }
  return std::nullopt;
}

}  // namespace pjit
