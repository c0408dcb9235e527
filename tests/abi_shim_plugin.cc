// A test plugin that forwards to the cpu plugin (PJIT_CPU_PLUGIN) but presents its table as
// PJIT_TEST_SHIM_MODE says: "core" (a plugin built against an older minor: the table ends
// at the core, abi_minor 0), "major2" (a future major), "short" (shorter than the core),
// "tiny" (too short to hold its version), or a plugin that reports success but hands back
// nothing: "null-client", "null-devices" (no device list), "no-devices" (an empty one).
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "pjit/plugin.h"

namespace {

PJIT_Api cpu;  // the cpu plugin's table

PJIT_Error* NullClient(const PJIT_ClientOptions* options, PJIT_Client** client) {
  PJIT_Error* e = cpu.client_create(options, client);
  if (!e && *client) cpu.client_destroy(*client);
  *client = nullptr;
  return e;
}

PJIT_Error* NullDevices(PJIT_Client* client, PJIT_Device* const** devices, size_t* count) {
  PJIT_Error* e = cpu.client_devices(client, devices, count);
  *devices = nullptr;
  return e;
}

PJIT_Error* NoDevices(PJIT_Client* client, PJIT_Device* const** devices, size_t* count) {
  PJIT_Error* e = cpu.client_devices(client, devices, count);
  *count = 0;
  return e;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const PJIT_Api* PJIT_GetApi(void) {
  static PJIT_Api table;
  void* library = dlopen(PJIT_CPU_PLUGIN, RTLD_NOW | RTLD_LOCAL);
  if (!library) return nullptr;
  auto get = reinterpret_cast<PJIT_GetApiFn>(dlsym(library, PJIT_GET_API_SYMBOL));
  if (!get) return nullptr;
  std::memcpy(&cpu, get(), sizeof cpu);
  table = cpu;
  const char* env = std::getenv("PJIT_TEST_SHIM_MODE");
  std::string mode = env ? env : "core";
  table.abi_minor = 0;
  table.struct_size = PJIT_API_STRUCT_SIZE_CORE;
  if (mode == "major2") table.abi_major = 2;
  if (mode == "short") table.struct_size = PJIT_API_STRUCT_SIZE_CORE - sizeof(void*);
  if (mode == "tiny") table.struct_size = 4;
  if (mode == "null-client") table.client_create = NullClient;
  if (mode == "null-devices") table.client_devices = NullDevices;
  if (mode == "no-devices") table.client_devices = NoDevices;
  return &table;
}
