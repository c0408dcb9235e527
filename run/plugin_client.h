// Owning C++ handles over a loaded plugin: a client with its devices, device buffers and
// loaded executables. What pjit-run and other programs embedding the runtime use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "format/literal.h"
#include "format/status.h"
#include "run/plugin_loader.h"

namespace pjit {

class DeviceBuffer {
 public:
  DeviceBuffer(std::shared_ptr<Plugin> plugin, PJIT_Buffer* buffer) : plugin_(std::move(plugin)), buffer_(buffer) {}
  DeviceBuffer(DeviceBuffer&& other) noexcept : plugin_(std::move(other.plugin_)), buffer_(other.buffer_) { other.buffer_ = nullptr; }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer();

  PJIT_Buffer* get() const { return buffer_; }
  StatusOr<Literal> ToHost() const;

 private:
  std::shared_ptr<Plugin> plugin_;
  PJIT_Buffer* buffer_ = nullptr;
};

class LoadedExecutable {
 public:
  LoadedExecutable(std::shared_ptr<Plugin> plugin, PJIT_Executable* executable) : plugin_(std::move(plugin)), executable_(executable) {}
  LoadedExecutable(const LoadedExecutable&) = delete;
  LoadedExecutable& operator=(const LoadedExecutable&) = delete;
  ~LoadedExecutable();

  // Runs on every device and waits: arguments[d][i] → results[d][o].
  StatusOr<std::vector<std::vector<DeviceBuffer>>> Execute(const std::vector<std::vector<const DeviceBuffer*>>& arguments,
                                                           size_t num_results) const;

 private:
  std::shared_ptr<Plugin> plugin_;
  PJIT_Executable* executable_;
};

class PluginClient {
 public:
  // cores_per_device: see PJIT_ClientOptions (0: the platform's choice).
  static StatusOr<std::unique_ptr<PluginClient>> Create(std::shared_ptr<Plugin> plugin, int64_t num_devices,
                                                        int64_t timeout_ms = 0, int64_t cores_per_device = 0);
  PluginClient(const PluginClient&) = delete;
  PluginClient& operator=(const PluginClient&) = delete;
  ~PluginClient();

  const Plugin& plugin() const { return *plugin_; }
  int64_t num_devices() const { return static_cast<int64_t>(devices_.size()); }
  StatusOr<DeviceBuffer> BufferFromHost(const Literal& array, int64_t device) const;
  // `artifact` is the whole .pjit file; `name` names it in errors.
  StatusOr<std::unique_ptr<LoadedExecutable>> Load(std::string_view artifact, const std::string& name) const;

 private:
  PluginClient(std::shared_ptr<Plugin> plugin, PJIT_Client* client) : plugin_(std::move(plugin)), client_(client) {}
  std::shared_ptr<Plugin> plugin_;
  PJIT_Client* client_;
  std::vector<PJIT_Device*> devices_;
};

}  // namespace pjit
