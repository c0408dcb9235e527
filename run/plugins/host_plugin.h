// The plugin ABI for platforms driven from this process: interp and cpu, whose devices work in
// host memory, and cuda, whose buffers live in each GPU's own memory. Errors, events, buffers
// and asynchronous execution are the same for all; a platform brings how it loads and runs an
// artifact (a HostExecutable) and, when its devices have their own memory, how arrays get there.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "format/literal.h"
#include "format/status.h"
#include "pjit/plugin.h"

namespace pjit {

struct HostClientOptions {
  int64_t num_devices = 1;
  int64_t timeout_ms = 60'000;  // how long a collective waits for its group
  int64_t cores_per_device = 0;  // 0: the machine's cores shared out evenly among the devices
};

// An array in a device's own memory (a platform with DeviceMemoryOps); freed by its destructor.
class DeviceMemory {
 public:
  virtual ~DeviceMemory() = default;
  virtual Status CopyToHost(void* destination, size_t size) const = 0;
};

// An execution's result on a platform with device memory.
struct DeviceResult {
  Shape shape;
  std::unique_ptr<DeviceMemory> memory;
};

class HostExecutable {
 public:
  virtual ~HostExecutable() = default;
  virtual size_t num_inputs() const = 0;
  virtual size_t num_outputs() const = 0;
  virtual size_t num_devices() const = 0;
  virtual uint64_t arena_bytes() const { return 0; }
  // Runs every device at once: arguments[d][i] is input i on device d; returns results[d][o].
  // Called from one thread at a time per executable.
  // Host-memory platforms.
  virtual StatusOr<std::vector<std::vector<Literal>>> Execute(const std::vector<std::vector<const Literal*>>& arguments);
  // Platforms with DeviceMemoryOps: the same, with arguments and results in device memory.
  virtual StatusOr<std::vector<std::vector<DeviceResult>>> ExecuteOnDevices(const std::vector<std::vector<const DeviceMemory*>>& arguments);
};

// How a platform whose devices have their own memory puts an array there.
struct DeviceMemoryOps {
  // `size` bytes from host `data` into device `device`'s memory.
  StatusOr<std::unique_ptr<DeviceMemory>> (*upload)(int64_t device, const void* data, size_t size);
};

struct HostPlatform {
  const char* name;         // "cpu"
  const char* device_kind;  // what device_describe reports
  int64_t default_devices;  // when the client options ask for 0
  // Loads an artifact (the whole file) for a client's devices; `name` names it in errors.
  StatusOr<std::unique_ptr<HostExecutable>> (*load)(std::string_view artifact, const std::string& name,
                                                    const HostClientOptions& options);
  // Whether a client can have `num_devices` devices (a GPU platform: the driver loads and has
  // that many GPUs; kUnavailable when not); null: any number can.
  Status (*check_devices)(int64_t num_devices) = nullptr;
  // Null: buffers live in host memory and executables run Execute; else ExecuteOnDevices.
  const DeviceMemoryOps* device_memory = nullptr;
};

// The API table of a host platform; `platform` must outlive it (a static).
const PJIT_Api* HostPluginApi(const HostPlatform* platform);

}  // namespace pjit
