#include "run/runner.h"

#include <filesystem>
#include <optional>

#include "format/artifact_reader.h"
#include "format/hlo_parser.h"
#include "format/npy.h"
#include "format/verifier.h"
#include "run/interpreter/evaluator.h"

namespace pjit {

StatusOr<std::vector<Literal>> LoadInputs(const Module& module, const std::vector<std::string>& specs) {
  const Computation& entry = *module.entry;
  std::vector<std::optional<Literal>> bound(entry.parameters.size());
  for (const std::string& spec : specs) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) return InvalidArgument("--input '", spec, "': expected INDEX=FILE.npy or NAME=FILE.npy");
    std::string key = spec.substr(0, eq), path = spec.substr(eq + 1);
    std::optional<size_t> index;
    if (key.find_first_not_of("0123456789") == std::string::npos) {
      index = std::stoul(key);
    } else {
      for (size_t i = 0; i < entry.parameters.size(); ++i)
        if (entry.parameters[i]->name == key) index = i;
    }
    if (!index || *index >= bound.size())
      return InvalidArgument("--input '", spec, "': '", module.name, "' has no parameter '", key, "' (it takes ", bound.size(), ")");
    if (bound[*index]) return InvalidArgument("--input '", spec, "': parameter ", *index, " is given twice");
    PJIT_ASSIGN_OR_RETURN(Literal array, ReadNpy(path));
    const Shape& want = entry.parameters[*index]->shape;
    if (!array.shape().Compatible(want))
      return InvalidArgument(path, ": holds ", array.shape().ToString(false), " but parameter ", *index, " (",
                             entry.parameters[*index]->name, ") is ", want.ToString(false));
    bound[*index] = std::move(array);
  }
  std::vector<Literal> out;
  for (size_t i = 0; i < bound.size(); ++i) {
    if (!bound[i]) return InvalidArgument("no --input for parameter ", i, " (", entry.parameters[i]->name, ": ", entry.parameters[i]->shape.ToString(false), ")");
    out.push_back(std::move(*bound[i]));
  }
  return out;
}

std::vector<Literal> FlattenResult(Literal result) {
  if (!result.shape().IsTuple()) return {std::move(result)};
  std::vector<Literal> out;
  for (Literal& e : result.elements())
    for (Literal& leaf : FlattenResult(std::move(e))) out.push_back(std::move(leaf));
  return out;
}

StatusOr<std::unique_ptr<Module>> LoadProgram(const std::string& path) {
  PJIT_ASSIGN_OR_RETURN(bool artifact, IsArtifactFile(path));
  if (artifact) {
    PJIT_ASSIGN_OR_RETURN(std::unique_ptr<ArtifactReader> reader, ArtifactReader::Open(path));
    return reader->LoadProgram();
  }
  PJIT_ASSIGN_OR_RETURN(std::unique_ptr<Module> module, ParseHloFile(path));
  PJIT_RETURN_IF_ERROR(VerifyModule(*module));
  return module;
}

Status Run(const RunOptions& options) {
  if (options.platform != "interp")
    return InvalidArgument("--platform ", options.platform, ": not available yet; this pjit-run has: interp");
  PJIT_ASSIGN_OR_RETURN(std::unique_ptr<Module> module, LoadProgram(options.program));
  PJIT_ASSIGN_OR_RETURN(std::vector<Literal> inputs, LoadInputs(*module, options.inputs));
  PJIT_ASSIGN_OR_RETURN(Literal result, EvaluateModule(*module, inputs));
  std::error_code ec;
  std::filesystem::create_directories(options.output_dir, ec);
  if (ec) return IoError("cannot create '", options.output_dir, "': ", ec.message());
  std::vector<Literal> outputs = FlattenResult(std::move(result));
  for (size_t i = 0; i < outputs.size(); ++i)
    PJIT_RETURN_IF_ERROR(WriteNpy((std::filesystem::path(options.output_dir) / ("out" + std::to_string(i) + ".npy")).string(), outputs[i]));
  return OkStatus();
}

}  // namespace pjit
