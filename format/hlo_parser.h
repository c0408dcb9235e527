// HLO text → program model. Accepts the text that XLA and JAX write (see the README of
// testdata/ for what is covered); every error is one line "file:line:col: message".
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "format/file_util.h"
#include "format/hlo_module.h"
#include "format/status.h"

namespace pjit {

StatusOr<std::unique_ptr<Module>> ParseHloModule(std::string_view text,
                                                 std::string_view filename = "<text>");
StatusOr<std::unique_ptr<Module>> ParseHloFile(const std::string& path);

}  // namespace pjit
