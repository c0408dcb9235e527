// An artifact loaded on a platform's devices, ready to run many times: the library form of
// pjit-run for programs that embed the runtime. Inputs and outputs are global arrays; the
// session shards and assembles them per the artifact's signature.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "format/artifact.h"
#include "format/artifact_reader.h"
#include "format/literal.h"
#include "format/status.h"
#include "run/plugin_client.h"

namespace pjit {

struct SessionOptions {
  std::string platform = "cpu";  // plugin name or path
  int64_t timeout_ms = 0;        // collectives' wait; 0: the platform's default
  int64_t cores_per_device = 0;  // host platforms: cores per device; 0: the platform's default
  // An Ed25519 key's PEM file: the artifact must carry a signature by it over its whole
  // content, checked before a plugin sees it (see format/artifact_signing.h). Empty: no check.
  std::string verify_key{};
};

// Buffers on the devices: [device][array].
using DeviceArrays = std::vector<std::vector<DeviceBuffer>>;

class Session {
 public:
  static StatusOr<std::unique_ptr<Session>> Open(const std::string& artifact_path, const SessionOptions& options);

  const Signature& signature() const { return reader_->signature(); }
  const Mesh& mesh() const { return reader_->mesh(); }
  int64_t num_devices() const { return client_->num_devices(); }
  const std::string& platform() const { return platform_; }

  // Global inputs (checked against the signature) → each device's shards.
  StatusOr<DeviceArrays> Upload(const std::vector<Literal>& inputs) const;
  // Runs every device at once and waits.
  StatusOr<DeviceArrays> Execute(const DeviceArrays& inputs) const;
  // Each output's shards as the devices hold them: [output][device].
  StatusOr<std::vector<std::vector<Literal>>> DownloadShards(const DeviceArrays& outputs) const;
  // The global outputs. Each output's shards are released once it is assembled, and an output
  // its devices hold whole (one device, or replicated) is moved, not copied: the host holds
  // each output about once.
  StatusOr<std::vector<Literal>> Assemble(std::vector<std::vector<Literal>> shards) const;

  // Upload, Execute, DownloadShards, Assemble.
  StatusOr<std::vector<Literal>> Run(const std::vector<Literal>& inputs) const;

 private:
  Session() = default;
  std::unique_ptr<ArtifactReader> reader_;
  std::unique_ptr<PluginClient> client_;
  std::unique_ptr<LoadedExecutable> executable_;
  std::string platform_;
};

}  // namespace pjit
