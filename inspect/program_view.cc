#include "inspect/program_view.h"

#include <algorithm>

#include "format/artifact_reader.h"
#include "format/hlo_printer.h"
#include "inspect/json_writer.h"

namespace pjit {

StatusOr<std::string> ProgramView(const std::string& artifact_path, const ProgramViewOptions& options) {
  PJIT_ASSIGN_OR_RETURN(bool artifact, IsArtifactFile(artifact_path));
  if (!artifact) return InvalidArgument(artifact_path, ": --program and --global need a .pjit artifact");
  PJIT_ASSIGN_OR_RETURN(std::unique_ptr<ArtifactReader> reader, ArtifactReader::Open(artifact_path));
  std::vector<int64_t> devices;
  std::string hlo;
  if (options.global) {
    PJIT_ASSIGN_OR_RETURN(std::unique_ptr<Module> program, reader->LoadProgram());
    hlo = PrintModule(*program);
  } else {
    PJIT_ASSIGN_OR_RETURN(std::vector<LoadedDeviceProgram> programs, reader->LoadDevicePrograms());
    if (programs.empty()) return InvalidArgument(artifact_path, ": device_programs: the artifact holds no per-device program");
    const LoadedDeviceProgram* chosen = &programs[0];
    if (options.device) {
      chosen = nullptr;
      for (const LoadedDeviceProgram& p : programs)
        if (std::count(p.devices.begin(), p.devices.end(), *options.device)) chosen = &p;
      if (!chosen) return InvalidArgument(artifact_path, ": device_programs: no program for device ", *options.device);
    }
    devices = chosen->devices;
    hlo = PrintModule(*chosen->module);
  }
  if (!options.json) return hlo;
  JsonWriter j;
  j.BeginObject().Key("devices").BeginArray();
  for (int64_t d : devices) j.Int(d);
  j.EndArray().Key("hlo").String(hlo).EndObject();
  return j.Finish();
}

}  // namespace pjit
