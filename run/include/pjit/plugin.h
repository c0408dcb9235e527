/* pjit platform plugin ABI: how pjit-run (or any program) drives a platform that runs .pjit
 * artifacts. Plain C, in the spirit of PJRT's C API:
 *
 *  - A plugin is a shared library exporting one function, PJIT_GetApi, that returns a table
 *    of function pointers (PJIT_Api). The caller checks abi_major (must equal its own) and
 *    reads only the fields that lie inside the table's struct_size, so a plugin built
 *    against an older minor version (a shorter table) still loads: a missing function is
 *    treated as "unimplemented".
 *  - Every argument struct starts with struct_size (set it to sizeof the struct you were
 *    compiled with); fields are only ever appended within a major version.
 *  - Handles are opaque. Whoever gets a handle from a *_create / *_load / *_from_host /
 *    execute call owns it and releases it with the matching *_destroy. Strings returned by
 *    the plugin live as long as the object they came from.
 *  - Every fallible call returns NULL on success or a PJIT_Error the caller destroys.
 *  - Execution is asynchronous: execute returns at once with a PJIT_Event; its results are
 *    defined once PJIT_Event await succeeds.
 */
#ifndef PJIT_PLUGIN_H_
#define PJIT_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PJIT_ABI_MAJOR 1
#define PJIT_ABI_MINOR 1

typedef struct PJIT_Error PJIT_Error;
typedef struct PJIT_Client PJIT_Client;
typedef struct PJIT_Device PJIT_Device;
typedef struct PJIT_Buffer PJIT_Buffer;
typedef struct PJIT_Executable PJIT_Executable;
typedef struct PJIT_Event PJIT_Event;

typedef enum {
  PJIT_OK = 0,
  PJIT_INVALID_ARGUMENT = 1,
  PJIT_NOT_FOUND = 2,
  PJIT_UNIMPLEMENTED = 3,
  PJIT_INTERNAL = 4,
  PJIT_IO = 5,
  PJIT_RESOURCE_EXHAUSTED = 6,
  PJIT_DEADLINE_EXCEEDED = 7,
  PJIT_UNAVAILABLE = 8
} PJIT_ErrorCode;

/* The element types of .pjit artifacts, numbered as in the artifact schema. */
typedef enum {
  PJIT_PRED = 1, PJIT_S8, PJIT_S16, PJIT_S32, PJIT_S64, PJIT_U8, PJIT_U16, PJIT_U32, PJIT_U64,
  PJIT_F16, PJIT_BF16, PJIT_F32, PJIT_F64
} PJIT_DType;

typedef struct {
  size_t struct_size;
  int64_t num_devices;  /* how many devices the client creates; 0: the platform's default */
  int64_t timeout_ms;   /* how long a collective waits for its group; 0: 60 s */
  /* since 1.1: host platforms' cores for each device's parallel work; 0: the machine's cores
   * shared out evenly among the devices */
  int64_t cores_per_device;
} PJIT_ClientOptions;

typedef struct {
  size_t struct_size;
  int64_t id;              /* the device id that artifacts' shardings name */
  const char* kind;        /* "cpu", "interp", or a GPU's name */
  uint64_t memory_bytes;   /* what buffers on it may use; 0: host memory, no fixed limit */
} PJIT_DeviceDescription;

typedef struct {
  size_t struct_size;
  PJIT_DType dtype;
  const int64_t* dims;  /* row-major */
  size_t rank;
  const void* data;     /* dense row-major bytes; copied before the call returns */
  PJIT_Device* device;
} PJIT_BufferFromHostArgs;

typedef struct {
  size_t struct_size;
  PJIT_DType dtype;
  const int64_t* dims;  /* valid while the buffer lives */
  size_t rank;
  uint64_t bytes;
  PJIT_Device* device;
} PJIT_BufferDescription;

typedef struct {
  size_t struct_size;
  const void* artifact;  /* the whole .pjit file; the plugin copies what it keeps */
  size_t artifact_size;
  const char* name;      /* names the artifact in error messages */
} PJIT_ExecutableLoadArgs;

typedef struct {
  size_t struct_size;
  size_t num_inputs;
  size_t num_outputs;
  size_t num_devices;   /* the devices the executable runs on: ids 0 .. num_devices-1 */
  uint64_t arena_bytes; /* the scratch memory one device needs (0 where the platform has no plan) */
} PJIT_ExecutableDescription;

typedef struct {
  size_t struct_size;
  size_t num_devices;
  /* arguments[d][i]: input i on device d (owned by the caller, only read). */
  PJIT_Buffer* const* const* arguments;
  size_t num_arguments;
  /* results[d][o]: set to new buffers the caller owns; defined once the event succeeds. */
  PJIT_Buffer** const* results;
  size_t num_results;
} PJIT_ExecuteArgs;

typedef struct {
  size_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  const char* platform_name;

  void (*error_destroy)(PJIT_Error* error);
  PJIT_ErrorCode (*error_code)(const PJIT_Error* error);
  const char* (*error_message)(const PJIT_Error* error);

  PJIT_Error* (*client_create)(const PJIT_ClientOptions* options, PJIT_Client** client);
  void (*client_destroy)(PJIT_Client* client);
  /* The client's devices, owned by the client. */
  PJIT_Error* (*client_devices)(PJIT_Client* client, PJIT_Device* const** devices, size_t* num_devices);
  PJIT_Error* (*device_describe)(PJIT_Device* device, PJIT_DeviceDescription* description);

  PJIT_Error* (*buffer_from_host)(PJIT_Client* client, const PJIT_BufferFromHostArgs* args, PJIT_Buffer** buffer);
  PJIT_Error* (*buffer_describe)(PJIT_Buffer* buffer, PJIT_BufferDescription* description);
  /* Copies the buffer's bytes into dst (size must equal its byte size); done when the event is. */
  PJIT_Error* (*buffer_to_host)(PJIT_Buffer* buffer, void* dst, size_t size, PJIT_Event** done);
  void (*buffer_destroy)(PJIT_Buffer* buffer);

  PJIT_Error* (*executable_load)(PJIT_Client* client, const PJIT_ExecutableLoadArgs* args, PJIT_Executable** executable);
  PJIT_Error* (*executable_execute)(PJIT_Executable* executable, const PJIT_ExecuteArgs* args, PJIT_Event** done);
  /* Waits until every execution of the executable has finished, then frees it. */
  void (*executable_destroy)(PJIT_Executable* executable);

  /* Blocks until the work is done; returns its error (the event stays owned by the caller). */
  PJIT_Error* (*event_await)(PJIT_Event* event);
  void (*event_destroy)(PJIT_Event* event);

  /* ---- the core ends here: a table must reach event_destroy. What follows is optional,
   * read only where struct_size covers it; later minors append here. ---- */
  PJIT_Error* (*executable_describe)(PJIT_Executable* executable, PJIT_ExecutableDescription* description);
  PJIT_Error* (*buffer_copy_to_device)(PJIT_Buffer* buffer, PJIT_Device* device, PJIT_Buffer** copy);
  int (*event_is_ready)(PJIT_Event* event);
} PJIT_Api;

/* The smallest table a loader accepts (the core) and the size of a version 1.0 table. */
#define PJIT_API_STRUCT_SIZE_CORE (offsetof(PJIT_Api, event_destroy) + sizeof(void (*)(PJIT_Event*)))
#define PJIT_API_STRUCT_SIZE_1_0 (offsetof(PJIT_Api, event_is_ready) + sizeof(int (*)(PJIT_Event*)))

/* The one symbol a plugin exports. */
typedef const PJIT_Api* (*PJIT_GetApiFn)(void);
#define PJIT_GET_API_SYMBOL "PJIT_GetApi"

#ifdef __cplusplus
}
#endif

#endif /* PJIT_PLUGIN_H_ */
