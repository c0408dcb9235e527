#include "inspect/program_view.h"

#include "format/hlo_printer.h"
#include "inspect/json_writer.h"

namespace pjit {

StatusOr<std::string> ProgramView(const InspectedArtifact& a, const ProgramViewOptions& options) {
  std::vector<int64_t> devices;
  std::string hlo;
  if (options.global) {
    hlo = PrintModule(*a.global);
  } else {
    if (a.device_programs.empty()) return InvalidArgument(a.path, ": device_programs: the artifact holds no per-device program");
    const LoadedDeviceProgram* chosen = a.ProgramOf(options.device.value_or(-1));
    if (!chosen) return InvalidArgument(a.path, ": device_programs: no program for device ", *options.device);
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
