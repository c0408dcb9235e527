// A test plugin that forwards to the cpu plugin (PJIT_CPU_PLUGIN) but presents its table as
// PJIT_TEST_SHIM_MODE says: "core" (a plugin built against an older minor: the table ends
// at the core, abi_minor 0), "major2" (a future major) or "short" (shorter than the core).
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "pjit/plugin.h"

extern "C" __attribute__((visibility("default"))) const PJIT_Api* PJIT_GetApi(void) {
  static PJIT_Api table;
  void* cpu = dlopen(PJIT_CPU_PLUGIN, RTLD_NOW | RTLD_LOCAL);
  if (!cpu) return nullptr;
  auto get = reinterpret_cast<PJIT_GetApiFn>(dlsym(cpu, PJIT_GET_API_SYMBOL));
  if (!get) return nullptr;
  std::memcpy(&table, get(), sizeof table);
  const char* env = std::getenv("PJIT_TEST_SHIM_MODE");
  std::string mode = env ? env : "core";
  table.abi_minor = 0;
  table.struct_size = PJIT_API_STRUCT_SIZE_CORE;
  if (mode == "major2") table.abi_major = 2;
  if (mode == "short") table.struct_size = PJIT_API_STRUCT_SIZE_CORE - sizeof(void*);
  return &table;
}
