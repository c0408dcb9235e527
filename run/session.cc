#include "run/session.h"

#include "format/artifact_signing.h"

#include "run/sharded_arrays.h"

namespace pjit {

StatusOr<std::unique_ptr<Session>> Session::Open(const std::string& artifact_path, const SessionOptions& options) {
  PJIT_ASSIGN_OR_RETURN(bool artifact, IsArtifactFile(artifact_path));
  if (!artifact) return InvalidArgument(artifact_path, ": not a .pjit artifact (compile it with pjit-compile first)");
  std::unique_ptr<Session> s(new Session());
  PJIT_ASSIGN_OR_RETURN(s->reader_, ArtifactReader::Open(artifact_path));
  if (!options.verify_key.empty()) PJIT_RETURN_IF_ERROR(VerifyArtifact(*s->reader_, options.verify_key));
  PJIT_ASSIGN_OR_RETURN(std::shared_ptr<Plugin> plugin, Plugin::Load(options.platform));
  s->platform_ = plugin->api().platform_name ? plugin->api().platform_name : options.platform;
  PJIT_ASSIGN_OR_RETURN(s->client_, PluginClient::Create(plugin, s->reader_->mesh().device_count(), options.timeout_ms,
                                                             options.cores_per_device));
  PJIT_ASSIGN_OR_RETURN(s->executable_, s->client_->Load(s->reader_->bytes(), artifact_path));
  return s;
}

StatusOr<DeviceArrays> Session::Upload(const std::vector<Literal>& inputs) const {
  const std::vector<ArrayInfo>& slots = signature().inputs;
  if (inputs.size() != slots.size()) return InvalidArgument("the artifact takes ", slots.size(), " inputs, given ", inputs.size());
  int64_t n = num_devices();
  DeviceArrays out(static_cast<size_t>(n));
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].shape().dtype != slots[i].shape.dtype || inputs[i].shape().dims != slots[i].shape.dims)
      return InvalidArgument("input ", i, " (", slots[i].name, ") is ", inputs[i].shape().ToString(false), ", expected ",
                             slots[i].shape.ToString(false));
    // A device that holds the whole array (replicated, or a mesh of one) gets it without a copy.
    const bool whole = slots[i].shard_shape.dims == slots[i].shape.dims;
    std::vector<Literal> shards = whole ? std::vector<Literal>{} : ShardArray(inputs[i], slots[i], n);
    for (int64_t d = 0; d < n; ++d) {
      PJIT_ASSIGN_OR_RETURN(DeviceBuffer b, client_->BufferFromHost(whole ? inputs[i] : shards[static_cast<size_t>(d)], d));
      out[static_cast<size_t>(d)].push_back(std::move(b));
    }
  }
  return out;
}

StatusOr<DeviceArrays> Session::Execute(const DeviceArrays& inputs) const {
  std::vector<std::vector<const DeviceBuffer*>> arguments(inputs.size());
  for (size_t d = 0; d < inputs.size(); ++d)
    for (const DeviceBuffer& b : inputs[d]) arguments[d].push_back(&b);
  return executable_->Execute(arguments, signature().outputs.size());
}

StatusOr<std::vector<std::vector<Literal>>> Session::DownloadShards(const DeviceArrays& outputs) const {
  std::vector<std::vector<Literal>> shards(signature().outputs.size());
  for (size_t o = 0; o < shards.size(); ++o)
    for (const std::vector<DeviceBuffer>& device : outputs) {
      PJIT_ASSIGN_OR_RETURN(Literal s, device[o].ToHost());
      shards[o].push_back(std::move(s));
    }
  return shards;
}

StatusOr<std::vector<Literal>> Session::Assemble(std::vector<std::vector<Literal>> shards) const {
  std::vector<Literal> out;
  for (size_t o = 0; o < shards.size(); ++o) {
    const ArrayInfo& info = signature().outputs[o];
    const bool whole = shards[o].size() == 1 || !info.sharding || info.sharding->kind == HloSharding::Kind::kReplicated;
    if (whole && !shards[o].empty() && shards[o][0].shape().dims == info.shape.dims && shards[o][0].shape().dtype == info.shape.dtype) {
      out.push_back(std::move(shards[o][0]));
    } else {
      PJIT_ASSIGN_OR_RETURN(Literal global, AssembleArray(shards[o], info));
      out.push_back(std::move(global));
    }
    shards[o] = {};
  }
  return out;
}

StatusOr<std::vector<Literal>> Session::Run(const std::vector<Literal>& inputs) const {
  PJIT_ASSIGN_OR_RETURN(DeviceArrays on_devices, Upload(inputs));
  PJIT_ASSIGN_OR_RETURN(DeviceArrays results, Execute(on_devices));
  PJIT_ASSIGN_OR_RETURN(std::vector<std::vector<Literal>> shards, DownloadShards(results));
  return Assemble(shards);
}

}  // namespace pjit
