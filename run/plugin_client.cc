#include "run/plugin_client.h"

namespace pjit {

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (buffer_) plugin_->api().buffer_destroy(buffer_);
    plugin_ = std::move(other.plugin_);
    buffer_ = other.buffer_;
    other.buffer_ = nullptr;
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() {
  if (buffer_) plugin_->api().buffer_destroy(buffer_);
}

StatusOr<Literal> DeviceBuffer::ToHost() const {
  const PJIT_Api& api = plugin_->api();
  PJIT_BufferDescription d{};
  d.struct_size = sizeof d;
  PJIT_RETURN_IF_ERROR(plugin_->Check(api.buffer_describe(buffer_, &d)));
  if (d.rank > 64 || (d.rank > 0 && !d.dims)) return Internal(plugin_->path(), ": buffer_describe gave no dims for rank ", d.rank);
  auto dtype = static_cast<DType>(d.dtype);
  if (!IsArrayType(dtype)) return Internal(plugin_->path(), ": buffer of unknown dtype ", static_cast<int>(d.dtype));
  Literal out(Shape::Array(dtype, std::vector<int64_t>(d.dims, d.dims + d.rank)));
  if (out.bytes().size() != d.bytes)
    return Internal(plugin_->path(), ": buffer ", out.shape().ToString(false), " reports ", d.bytes, " bytes");
  PJIT_Event* done = nullptr;
  PJIT_RETURN_IF_ERROR(plugin_->Check(api.buffer_to_host(buffer_, out.bytes().data(), out.bytes().size(), &done)));
  if (!done) return Internal(plugin_->path(), ": buffer_to_host succeeded but returned no event");
  Status s = plugin_->Check(api.event_await(done));
  api.event_destroy(done);
  PJIT_RETURN_IF_ERROR(s);
  return out;
}

LoadedExecutable::~LoadedExecutable() { plugin_->api().executable_destroy(executable_); }

StatusOr<std::vector<std::vector<DeviceBuffer>>> LoadedExecutable::Execute(
    const std::vector<std::vector<const DeviceBuffer*>>& arguments, size_t num_results) const {
  const PJIT_Api& api = plugin_->api();
  size_t n = arguments.size();
  std::vector<std::vector<PJIT_Buffer*>> args(n);
  std::vector<PJIT_Buffer* const*> arg_lists(n);
  std::vector<std::vector<PJIT_Buffer*>> results(n, std::vector<PJIT_Buffer*>(num_results, nullptr));
  std::vector<PJIT_Buffer**> result_lists(n);
  for (size_t d = 0; d < n; ++d) {
    for (const DeviceBuffer* b : arguments[d]) args[d].push_back(b->get());
    arg_lists[d] = args[d].data();
    result_lists[d] = results[d].data();
  }
  PJIT_ExecuteArgs ea{};
  ea.struct_size = sizeof ea;
  ea.num_devices = n;
  ea.arguments = arg_lists.data();
  ea.num_arguments = n ? arguments[0].size() : 0;
  ea.results = result_lists.data();
  ea.num_results = num_results;
  PJIT_Event* done = nullptr;
  PJIT_RETURN_IF_ERROR(plugin_->Check(api.executable_execute(executable_, &ea, &done)));
  if (!done) return Internal(plugin_->path(), ": executable_execute succeeded but returned no event");
  Status s = plugin_->Check(api.event_await(done));
  api.event_destroy(done);
  std::vector<std::vector<DeviceBuffer>> out(n);
  for (size_t d = 0; d < n; ++d)
    for (PJIT_Buffer* b : results[d])
      if (b) out[d].emplace_back(plugin_, b);
  PJIT_RETURN_IF_ERROR(s);
  for (size_t d = 0; d < n; ++d)
    if (out[d].size() != num_results) return Internal(plugin_->path(), ": device ", d, " returned ", out[d].size(), " of ", num_results, " results");
  return out;
}

StatusOr<std::unique_ptr<PluginClient>> PluginClient::Create(std::shared_ptr<Plugin> plugin, int64_t num_devices, int64_t timeout_ms,
                                                             int64_t cores_per_device) {
  const PJIT_Api& api = plugin->api();
  PJIT_ClientOptions o{};
  o.struct_size = sizeof o;
  o.num_devices = num_devices;
  o.timeout_ms = timeout_ms;
  o.cores_per_device = cores_per_device;
  PJIT_Client* c = nullptr;
  PJIT_RETURN_IF_ERROR(plugin->Check(api.client_create(&o, &c)));
  if (!c) return Internal(plugin->path(), ": client_create succeeded but returned no client");
  std::unique_ptr<PluginClient> client(new PluginClient(plugin, c));
  PJIT_Device* const* devices = nullptr;
  size_t count = 0;
  PJIT_RETURN_IF_ERROR(plugin->Check(api.client_devices(c, &devices, &count)));
  if (count != static_cast<size_t>(num_devices))
    return Internal(plugin->path(), ": the client has ", count, " devices, the mesh needs ", num_devices);
  if (!devices) return Internal(plugin->path(), ": client_devices returned no device list");
  // Index devices by id so that device d of the artifact's mesh is the client's device d.
  client->devices_.assign(count, nullptr);
  for (size_t i = 0; i < count; ++i) {
    if (!devices[i]) return Internal(plugin->path(), ": client device ", i, " is null");
    PJIT_DeviceDescription desc{};
    desc.struct_size = sizeof desc;
    PJIT_RETURN_IF_ERROR(plugin->Check(api.device_describe(devices[i], &desc)));
    if (desc.id < 0 || desc.id >= static_cast<int64_t>(count) || client->devices_[static_cast<size_t>(desc.id)])
      return Internal(plugin->path(), ": device ids are not 0..", count - 1);
    client->devices_[static_cast<size_t>(desc.id)] = devices[i];
  }
  return client;
}

PluginClient::~PluginClient() { plugin_->api().client_destroy(client_); }

StatusOr<DeviceBuffer> PluginClient::BufferFromHost(const Literal& array, int64_t device) const {
  if (device < 0 || device >= num_devices()) return InvalidArgument("no device ", device, " (the client has ", num_devices(), ")");
  PJIT_BufferFromHostArgs a{};
  a.struct_size = sizeof a;
  a.dtype = static_cast<PJIT_DType>(array.shape().dtype);
  a.dims = array.shape().dims.data();
  a.rank = array.shape().dims.size();
  a.data = array.bytes().data();
  a.device = devices_[static_cast<size_t>(device)];
  PJIT_Buffer* b = nullptr;
  PJIT_RETURN_IF_ERROR(plugin_->Check(plugin_->api().buffer_from_host(client_, &a, &b)));
  if (!b) return Internal(plugin_->path(), ": buffer_from_host succeeded but returned no buffer");
  return DeviceBuffer(plugin_, b);
}

StatusOr<std::unique_ptr<LoadedExecutable>> PluginClient::Load(std::string_view artifact, const std::string& name) const {
  PJIT_ExecutableLoadArgs a{};
  a.struct_size = sizeof a;
  a.artifact = artifact.data();
  a.artifact_size = artifact.size();
  a.name = name.c_str();
  PJIT_Executable* e = nullptr;
  PJIT_RETURN_IF_ERROR(plugin_->Check(plugin_->api().executable_load(client_, &a, &e)));
  if (!e) return Internal(plugin_->path(), ": executable_load succeeded but returned no executable");
  return std::make_unique<LoadedExecutable>(plugin_, e);
}

}  // namespace pjit
