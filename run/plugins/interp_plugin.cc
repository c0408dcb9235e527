// The `interp` platform: the reference interpreter behind the plugin ABI. Each device runs
// the artifact's SPMD device program on its own thread; collectives meet in the
// interpreter's rendezvous. Slow and exact: the oracle the other platforms are checked against.
#include "format/artifact_reader.h"
#include "run/interpreter/evaluator.h"
#include "run/plugins/host_plugin.h"

namespace pjit {
namespace {

class InterpExecutable : public HostExecutable {
 public:
  InterpExecutable(std::vector<LoadedDeviceProgram> programs, std::vector<const Module*> by_device, Signature signature,
                   int64_t timeout_ms)
      : programs_(std::move(programs)), by_device_(std::move(by_device)), signature_(std::move(signature)), timeout_ms_(timeout_ms) {}

  size_t num_inputs() const override { return signature_.inputs.size(); }
  size_t num_outputs() const override { return signature_.outputs.size(); }
  size_t num_devices() const override { return by_device_.size(); }

  StatusOr<std::vector<std::vector<Literal>>> Execute(const std::vector<std::vector<const Literal*>>& arguments) override {
    size_t n = by_device_.size();
    std::vector<std::vector<Literal>> args(n);
    for (size_t d = 0; d < n; ++d)
      for (const Literal* a : arguments[d]) args[d].push_back(*a);
    PJIT_ASSIGN_OR_RETURN(std::vector<Literal> results, EvaluateSpmd(by_device_, args, timeout_ms_));
    std::vector<std::vector<Literal>> out(n);
    for (size_t d = 0; d < n; ++d) {
      out[d] = FlattenResult(std::move(results[d]));
      if (out[d].size() != num_outputs())
        return Internal("device ", d, " returned ", out[d].size(), " results, the signature lists ", num_outputs());
    }
    return out;
  }

 private:
  std::vector<LoadedDeviceProgram> programs_;
  std::vector<const Module*> by_device_;
  Signature signature_;
  int64_t timeout_ms_;
};

StatusOr<std::unique_ptr<HostExecutable>> LoadInterp(std::string_view artifact, const std::string& name,
                                                     const HostClientOptions& options) {
  PJIT_ASSIGN_OR_RETURN(std::unique_ptr<ArtifactReader> reader, ArtifactReader::FromBytes(std::string(artifact), name));
  PJIT_ASSIGN_OR_RETURN(std::vector<LoadedDeviceProgram> programs, reader->LoadDevicePrograms());
  if (programs.empty()) return InvalidArgument(name, ": section device_programs: absent (the interp platform runs it)");
  int64_t n = reader->mesh().device_count();
  std::vector<const Module*> by_device(static_cast<size_t>(n), nullptr);
  for (const LoadedDeviceProgram& p : programs)
    for (int64_t d : p.devices) {
      if (d < 0 || d >= n) return InvalidArgument(name, ": section device_programs: device ", d, " is not in the mesh of ", n);
      by_device[static_cast<size_t>(d)] = p.module.get();
    }
  for (int64_t d = 0; d < n; ++d)
    if (!by_device[static_cast<size_t>(d)]) return InvalidArgument(name, ": section device_programs: no program for device ", d);
  return std::unique_ptr<HostExecutable>(std::make_unique<InterpExecutable>(
      std::move(programs), std::move(by_device), reader->signature(), options.timeout_ms));
}

const HostPlatform kInterp{"interp", "interp", 1, LoadInterp};

}  // namespace
}  // namespace pjit

extern "C" __attribute__((visibility("default"))) const PJIT_Api* PJIT_GetApi(void) { return pjit::HostPluginApi(&pjit::kInterp); }
