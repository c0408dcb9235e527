#include "compile/pipeline.h"

#include "format/artifact_writer.h"
#include "format/content_hash.h"
#include "format/hlo_parser.h"
#include "format/verifier.h"

namespace pjit {

Status Compile(const CompileOptions& options) {
  PJIT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(options.input));
  PJIT_ASSIGN_OR_RETURN(std::unique_ptr<Module> module, ParseHloModule(text, options.input));
  PJIT_RETURN_IF_ERROR(VerifyModule(*module));
  ArtifactContents contents;
  // Flags that change the artifact are recorded; where it is written is not one of them.
  contents.producer = {"pjit-compile", PJIT_VERSION, {}, options.input, ContentHash(text)};
  contents.mesh = Mesh::Linear(1);
  contents.program = module.get();
  contents.signature = UnpartitionedSignature(*module, contents.mesh);
  contents.device_programs.push_back({{0}, module.get()});
  return WriteArtifact(options.output, contents);
}

}  // namespace pjit
