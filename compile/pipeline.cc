#include "compile/pipeline.h"

#include "format/file_util.h"
#include "format/hlo_parser.h"
#include "format/hlo_printer.h"
#include "format/verifier.h"

namespace pjit {

Status Compile(const CompileOptions& options) {
  PJIT_ASSIGN_OR_RETURN(std::unique_ptr<Module> module, ParseHloFile(options.input));
  PJIT_RETURN_IF_ERROR(VerifyModule(*module));
  return WriteFileAtomically(options.output, PrintModule(*module));
}

}  // namespace pjit
