// The `cpu` platform: N virtual devices in this process (see cpu_executable.h).
#include "run/plugins/cpu/cpu_executable.h"
#include "run/plugins/host_plugin.h"

namespace pjit {
namespace {

const HostPlatform kCpu{"cpu", "cpu", 1, CpuExecutable::Load};

}  // namespace
}  // namespace pjit

extern "C" __attribute__((visibility("default"))) const PJIT_Api* PJIT_GetApi(void) { return pjit::HostPluginApi(&pjit::kCpu); }
