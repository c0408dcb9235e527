#include "run/plugins/cpu/cpu_features.h"

#include <optional>

namespace pjit {

std::optional<bool> CpuSupports(const std::string& f) {
  __builtin_cpu_init();
  // __builtin_cpu_supports takes string literals only.
#define PJIT_FEATURE(name) \
  if (f == name) return __builtin_cpu_supports(name) != 0;
  PJIT_FEATURE("sse3") PJIT_FEATURE("ssse3") PJIT_FEATURE("sse4.1") PJIT_FEATURE("sse4.2") PJIT_FEATURE("popcnt")
  PJIT_FEATURE("avx") PJIT_FEATURE("avx2") PJIT_FEATURE("fma") PJIT_FEATURE("f16c") PJIT_FEATURE("bmi") PJIT_FEATURE("bmi2")
  PJIT_FEATURE("avx512f") PJIT_FEATURE("avx512dq") PJIT_FEATURE("avx512cd") PJIT_FEATURE("avx512bw") PJIT_FEATURE("avx512vl")
  PJIT_FEATURE("avx512vnni") PJIT_FEATURE("avx512bf16") PJIT_FEATURE("avx512fp16")
#undef PJIT_FEATURE
  return std::nullopt;
}

Status CheckCpuFeatures(const ExecutableInfo& e, const std::string& artifact) {
  for (const std::string& f : e.cpu_features) {
    std::optional<bool> supported = CpuSupports(f);
    if (!supported)
      return InvalidArgument(artifact, ": section 'executables': the x86_64 code needs CPU feature '", f,
                             "', which this pjit cannot check; recompile with a newer pjit-compile or --cpu x86-64");
    if (!*supported)
      return InvalidArgument(artifact, ": section 'executables': the x86_64 code was compiled for ", e.cpu, " and needs ", f,
                             ", which this CPU lacks; recompile with --cpu x86-64 (portable) or --cpu native on this machine");
  }
  return OkStatus();
}

}  // namespace pjit
