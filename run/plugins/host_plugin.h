// The plugin ABI over host memory, shared by the platforms whose devices live in this process
// (interp and cpu) and by cuda, whose arrays wait in host memory between executions: errors,
// events, buffers and asynchronous execution are the same for all; a platform brings only how
// it loads and runs an artifact (a HostExecutable).
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

class HostExecutable {
 public:
  virtual ~HostExecutable() = default;
  virtual size_t num_inputs() const = 0;
  virtual size_t num_outputs() const = 0;
  virtual size_t num_devices() const = 0;
  virtual uint64_t arena_bytes() const { return 0; }
  // Runs every device at once: arguments[d][i] is input i on device d; returns results[d][o].
  // Called from one thread at a time per executable.
  virtual StatusOr<std::vector<std::vector<Literal>>> Execute(const std::vector<std::vector<const Literal*>>& arguments) = 0;
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
};

// The API table of a host platform; `platform` must outlive it (a static).
const PJIT_Api* HostPluginApi(const HostPlatform* platform);

}  // namespace pjit
