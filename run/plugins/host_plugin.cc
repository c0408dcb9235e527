#include "run/plugins/host_plugin.h"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <new>
#include <thread>

// The opaque ABI types, defined for host platforms.
struct PJIT_Error {
  PJIT_ErrorCode code;
  std::string message;
};

struct PJIT_Device {
  int64_t id;
  const char* kind;
};

struct PJIT_Client {
  const pjit::HostPlatform* platform;
  pjit::HostClientOptions options;
  std::vector<PJIT_Device> devices;
  std::vector<PJIT_Device*> device_pointers;
};

// An array on one device: its bytes in `array` on host-memory platforms, in `memory` on
// platforms with device memory (where `array` is empty and `shape` alone describes it).
struct PJIT_Buffer {
  pjit::Shape shape;
  pjit::Literal array;
  std::shared_ptr<const pjit::DeviceMemory> memory;
  PJIT_Device* device;
};

// Shared between an execution's worker thread and the caller's event handle.
struct EventState {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  pjit::Status status;
};

struct PJIT_Event {
  std::shared_ptr<EventState> state;
};

// Executions queue on one worker thread per executable (they run one at a time, in order),
// so that execute returns at once; destroy finishes the queue first.
struct PJIT_Executable {
  PJIT_Client* client;
  std::unique_ptr<pjit::HostExecutable> impl;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;
  bool stopping = false;
  std::thread worker;

  void Work() {
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;
        job = std::move(queue.front());
        queue.pop_front();
      }
      job();
    }
  }
};

namespace pjit {

StatusOr<std::vector<std::vector<Literal>>> HostExecutable::Execute(const std::vector<std::vector<const Literal*>>&) {
  return Internal("this platform's executables run in device memory");
}

StatusOr<std::vector<std::vector<DeviceResult>>> HostExecutable::ExecuteOnDevices(const std::vector<std::vector<const DeviceMemory*>>&) {
  return Internal("this platform's executables run in host memory");
}

namespace {

PJIT_ErrorCode ToCode(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return PJIT_OK;
    case StatusCode::kInvalidArgument: return PJIT_INVALID_ARGUMENT;
    case StatusCode::kNotFound: return PJIT_NOT_FOUND;
    case StatusCode::kUnimplemented: return PJIT_UNIMPLEMENTED;
    case StatusCode::kInternal: return PJIT_INTERNAL;
    case StatusCode::kIo: return PJIT_IO;
    case StatusCode::kUnavailable: return PJIT_UNAVAILABLE;
  }
  return PJIT_INTERNAL;
}

PJIT_Error* MakeError(const Status& status) {
  if (status.ok()) return nullptr;
  return new PJIT_Error{ToCode(status.code()), status.message()};
}

template <typename... Args>
PJIT_Error* Invalid(const Args&... args) {
  return MakeError(InvalidArgument(args...));
}

// Runs `f` and turns an escaping allocation failure into an error value: nothing may unwind
// through the C boundary.
template <typename F>
PJIT_Error* Guard(F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return new PJIT_Error{PJIT_RESOURCE_EXHAUSTED, "out of host memory"};
  } catch (const std::exception& e) {
    return new PJIT_Error{PJIT_INTERNAL, e.what()};
  }
}

PJIT_Event* ReadyEvent(Status status) {
  auto state = std::make_shared<EventState>();
  state->done = true;
  state->status = std::move(status);
  return new PJIT_Event{std::move(state)};
}

const HostPlatform* g_platform = nullptr;

void ErrorDestroy(PJIT_Error* e) { delete e; }
PJIT_ErrorCode ErrorCode(const PJIT_Error* e) { return e->code; }
const char* ErrorMessage(const PJIT_Error* e) { return e->message.c_str(); }

PJIT_Error* ClientCreate(const PJIT_ClientOptions* options, PJIT_Client** client) {
  return Guard([&]() -> PJIT_Error* {
    if (!options || options->struct_size < offsetof(PJIT_ClientOptions, num_devices) + sizeof(int64_t))
      return Invalid("client_create: PJIT_ClientOptions is missing or too small");
    HostClientOptions o;
    o.num_devices = options->num_devices == 0 ? g_platform->default_devices : options->num_devices;
    if (options->struct_size >= offsetof(PJIT_ClientOptions, timeout_ms) + sizeof(int64_t) && options->timeout_ms > 0)
      o.timeout_ms = options->timeout_ms;
    if (options->struct_size >= offsetof(PJIT_ClientOptions, cores_per_device) + sizeof(int64_t)) {
      if (options->cores_per_device < 0 || options->cores_per_device > 4096)
        return Invalid(g_platform->name, ": cannot give each device ", options->cores_per_device, " cores (0 to 4096)");
      o.cores_per_device = options->cores_per_device;
    }
    if (o.num_devices < 1 || o.num_devices > 65536)
      return Invalid(g_platform->name, ": cannot create ", o.num_devices, " devices (1 to 65536)");
    if (g_platform->check_devices)
      if (Status can = g_platform->check_devices(o.num_devices); !can.ok()) return MakeError(can);
    auto c = std::make_unique<PJIT_Client>();
    c->platform = g_platform;
    c->options = o;
    for (int64_t d = 0; d < o.num_devices; ++d) c->devices.push_back(PJIT_Device{d, g_platform->device_kind});
    for (PJIT_Device& d : c->devices) c->device_pointers.push_back(&d);
    *client = c.release();
    return nullptr;
  });
}

void ClientDestroy(PJIT_Client* c) { delete c; }

PJIT_Error* ClientDevices(PJIT_Client* c, PJIT_Device* const** devices, size_t* n) {
  *devices = c->device_pointers.data();
  *n = c->device_pointers.size();
  return nullptr;
}

PJIT_Error* DeviceDescribe(PJIT_Device* d, PJIT_DeviceDescription* out) {
  if (!out || out->struct_size < sizeof(PJIT_DeviceDescription)) return Invalid("device_describe: description too small");
  out->id = d->id;
  out->kind = d->kind;
  out->memory_bytes = 0;
  return nullptr;
}

PJIT_Error* BufferFromHost(PJIT_Client* c, const PJIT_BufferFromHostArgs* args, PJIT_Buffer** buffer) {
  return Guard([&]() -> PJIT_Error* {
    if (!args || args->struct_size < sizeof(PJIT_BufferFromHostArgs)) return Invalid("buffer_from_host: arguments too small");
    auto dtype = static_cast<DType>(args->dtype);
    if (!IsArrayType(dtype)) return Invalid("buffer_from_host: unknown dtype ", static_cast<int>(args->dtype));
    bool ours = false;
    for (const PJIT_Device& d : c->devices) ours = ours || &d == args->device;
    if (!ours) return Invalid("buffer_from_host: the device is not one of this client's");
    std::vector<int64_t> dims(args->dims, args->dims + args->rank);
    for (int64_t d : dims)
      if (d < 0) return Invalid("buffer_from_host: negative dimension ", d);
    Shape shape = Shape::Array(dtype, dims);
    if (!WithinElementLimit(shape)) return Invalid("buffer_from_host: ", shape.ToString(false), " has too many elements");
    if (const DeviceMemoryOps* ops = c->platform->device_memory) {
      StatusOr<std::unique_ptr<DeviceMemory>> memory = ops->upload(args->device->id, args->data, static_cast<size_t>(shape.ByteSize()));
      if (!memory.ok()) return MakeError(memory.status());
      *buffer = new PJIT_Buffer{std::move(shape), Literal(), std::move(*memory), args->device};
      return nullptr;
    }
    Literal array(shape);
    if (!array.bytes().empty()) std::memcpy(array.bytes().data(), args->data, array.bytes().size());
    *buffer = new PJIT_Buffer{std::move(shape), std::move(array), nullptr, args->device};
    return nullptr;
  });
}

PJIT_Error* BufferDescribe(PJIT_Buffer* b, PJIT_BufferDescription* out) {
  if (!out || out->struct_size < sizeof(PJIT_BufferDescription)) return Invalid("buffer_describe: description too small");
  out->dtype = static_cast<PJIT_DType>(b->shape.dtype);
  out->dims = b->shape.dims.data();
  out->rank = b->shape.dims.size();
  out->bytes = static_cast<size_t>(b->shape.ByteSize());
  out->device = b->device;
  return nullptr;
}

PJIT_Error* BufferToHost(PJIT_Buffer* b, void* dst, size_t size, PJIT_Event** done) {
  const auto bytes = static_cast<size_t>(b->shape.ByteSize());
  if (size != bytes) return Invalid("buffer_to_host: the buffer holds ", bytes, " bytes, the destination ", size);
  if (b->memory) {
    if (Status copied = b->memory->CopyToHost(dst, size); !copied.ok()) return MakeError(copied);
  } else if (size) {
    std::memcpy(dst, b->array.bytes().data(), size);
  }
  *done = ReadyEvent(OkStatus());
  return nullptr;
}

// Between two devices of a platform with device memory, through the host.
PJIT_Error* BufferCopyToDevice(PJIT_Buffer* b, PJIT_Device* device, PJIT_Buffer** copy) {
  return Guard([&]() -> PJIT_Error* {
    if (!b->memory) {
      *copy = new PJIT_Buffer{b->shape, b->array, nullptr, device};
      return nullptr;
    }
    std::vector<char> bytes(static_cast<size_t>(b->shape.ByteSize()));
    if (Status s = b->memory->CopyToHost(bytes.data(), bytes.size()); !s.ok()) return MakeError(s);
    StatusOr<std::unique_ptr<DeviceMemory>> memory = g_platform->device_memory->upload(device->id, bytes.data(), bytes.size());
    if (!memory.ok()) return MakeError(memory.status());
    *copy = new PJIT_Buffer{b->shape, Literal(), std::move(*memory), device};
    return nullptr;
  });
}

void BufferDestroy(PJIT_Buffer* b) { delete b; }

PJIT_Error* ExecutableLoad(PJIT_Client* c, const PJIT_ExecutableLoadArgs* args, PJIT_Executable** executable) {
  return Guard([&]() -> PJIT_Error* {
    if (!args || args->struct_size < sizeof(PJIT_ExecutableLoadArgs)) return Invalid("executable_load: arguments too small");
    std::string name = args->name ? args->name : "<artifact>";
    StatusOr<std::unique_ptr<HostExecutable>> impl =
        g_platform->load(std::string_view(static_cast<const char*>(args->artifact), args->artifact_size), name, c->options);
    if (!impl.ok()) return MakeError(impl.status());
    if (static_cast<int64_t>((*impl)->num_devices()) != c->options.num_devices)
      return Invalid(name, ": its mesh has ", (*impl)->num_devices(), " devices, the ", g_platform->name, " client has ",
                     c->options.num_devices);
    auto e = std::make_unique<PJIT_Executable>();
    e->client = c;
    e->impl = std::move(*impl);
    e->worker = std::thread([ex = e.get()] { ex->Work(); });
    *executable = e.release();
    return nullptr;
  });
}

PJIT_Error* ExecutableDescribe(PJIT_Executable* e, PJIT_ExecutableDescription* out) {
  if (!out || out->struct_size < sizeof(PJIT_ExecutableDescription)) return Invalid("executable_describe: description too small");
  out->num_inputs = e->impl->num_inputs();
  out->num_outputs = e->impl->num_outputs();
  out->num_devices = e->impl->num_devices();
  out->arena_bytes = e->impl->arena_bytes();
  return nullptr;
}

// One execution, on the executable's worker: its results become buffers in `results[d][o]`.
Status RunExecution(PJIT_Executable& e, const std::vector<std::vector<const PJIT_Buffer*>>& arguments,
                    const std::vector<PJIT_Buffer**>& results) {
  const std::vector<PJIT_Device*>& devices = e.client->device_pointers;
  if (e.client->platform->device_memory) {
    std::vector<std::vector<const DeviceMemory*>> in(arguments.size());
    for (size_t d = 0; d < arguments.size(); ++d)
      for (const PJIT_Buffer* b : arguments[d]) in[d].push_back(b->memory.get());
    PJIT_ASSIGN_OR_RETURN(std::vector<std::vector<DeviceResult>> out, e.impl->ExecuteOnDevices(in));
    for (size_t d = 0; d < results.size(); ++d)
      for (size_t o = 0; o < out[d].size(); ++o)
        results[d][o] = new PJIT_Buffer{std::move(out[d][o].shape), Literal(), std::move(out[d][o].memory), devices[d]};
    return OkStatus();
  }
  std::vector<std::vector<const Literal*>> in(arguments.size());
  for (size_t d = 0; d < arguments.size(); ++d)
    for (const PJIT_Buffer* b : arguments[d]) in[d].push_back(&b->array);
  PJIT_ASSIGN_OR_RETURN(std::vector<std::vector<Literal>> out, e.impl->Execute(in));
  for (size_t d = 0; d < results.size(); ++d)
    for (size_t o = 0; o < out[d].size(); ++o) {
      Shape shape = out[d][o].shape();
      results[d][o] = new PJIT_Buffer{std::move(shape), std::move(out[d][o]), nullptr, devices[d]};
    }
  return OkStatus();
}

PJIT_Error* ExecutableExecute(PJIT_Executable* e, const PJIT_ExecuteArgs* args, PJIT_Event** done) {
  return Guard([&]() -> PJIT_Error* {
    if (!args || args->struct_size < sizeof(PJIT_ExecuteArgs)) return Invalid("execute: arguments too small");
    const HostExecutable& impl = *e->impl;
    if (args->num_devices != impl.num_devices())
      return Invalid("execute: the executable runs on ", impl.num_devices(), " devices, given arguments for ", args->num_devices);
    if (args->num_arguments != impl.num_inputs())
      return Invalid("execute: the executable takes ", impl.num_inputs(), " inputs, given ", args->num_arguments);
    if (args->num_results != impl.num_outputs())
      return Invalid("execute: the executable returns ", impl.num_outputs(), " outputs, given room for ", args->num_results);
    std::vector<std::vector<const PJIT_Buffer*>> arguments(args->num_devices);
    for (size_t d = 0; d < args->num_devices; ++d)
      for (size_t i = 0; i < args->num_arguments; ++i) {
        const PJIT_Buffer* b = args->arguments[d][i];
        if (!b) return Invalid("execute: no buffer for input ", i, " on device ", d);
        if (b->device->id != static_cast<int64_t>(d))
          return Invalid("execute: input ", i, " for device ", d, " lives on device ", b->device->id);
        arguments[d].push_back(b);
      }
    auto state = std::make_shared<EventState>();
    std::vector<PJIT_Buffer**> results(args->results, args->results + args->num_devices);
    auto job = [e, state, arguments = std::move(arguments), results = std::move(results)] {
      Status status;
      try {
        status = RunExecution(*e, arguments, results);
      } catch (const std::bad_alloc&) {
        status = Internal("out of host memory while executing");
      }
      std::lock_guard<std::mutex> l(state->mu);
      state->done = true;
      state->status = status;
      state->cv.notify_all();
    };
    {
      std::lock_guard<std::mutex> lock(e->mu);
      e->queue.push_back(std::move(job));
    }
    e->cv.notify_one();
    *done = new PJIT_Event{state};
    return nullptr;
  });
}

void ExecutableDestroy(PJIT_Executable* e) {
  {
    std::lock_guard<std::mutex> lock(e->mu);
    e->stopping = true;
  }
  e->cv.notify_one();
  e->worker.join();
  delete e;
}

PJIT_Error* EventAwait(PJIT_Event* ev) {
  std::unique_lock<std::mutex> lock(ev->state->mu);
  ev->state->cv.wait(lock, [&] { return ev->state->done; });
  return MakeError(ev->state->status);
}

int EventIsReady(PJIT_Event* ev) {
  std::lock_guard<std::mutex> lock(ev->state->mu);
  return ev->state->done ? 1 : 0;
}

void EventDestroy(PJIT_Event* ev) { delete ev; }

}  // namespace

const PJIT_Api* HostPluginApi(const HostPlatform* platform) {
  g_platform = platform;
  static const PJIT_Api api = [] {
    PJIT_Api a{};
    a.struct_size = sizeof(PJIT_Api);
    a.abi_major = PJIT_ABI_MAJOR;
    a.abi_minor = PJIT_ABI_MINOR;
    a.platform_name = g_platform->name;
    a.error_destroy = ErrorDestroy;
    a.error_code = ErrorCode;
    a.error_message = ErrorMessage;
    a.client_create = ClientCreate;
    a.client_destroy = ClientDestroy;
    a.client_devices = ClientDevices;
    a.device_describe = DeviceDescribe;
    a.buffer_from_host = BufferFromHost;
    a.buffer_describe = BufferDescribe;
    a.buffer_to_host = BufferToHost;
    a.buffer_destroy = BufferDestroy;
    a.executable_load = ExecutableLoad;
    a.executable_execute = ExecutableExecute;
    a.executable_destroy = ExecutableDestroy;
    a.event_await = EventAwait;
    a.event_destroy = EventDestroy;
    a.executable_describe = ExecutableDescribe;
    a.buffer_copy_to_device = BufferCopyToDevice;
    a.event_is_ready = EventIsReady;
    return a;
  }();
  return &api;
}

}  // namespace pjit
