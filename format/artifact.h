// What a .pjit artifact holds, as plain structs: the writer takes an ArtifactContents, the
// reader hands the same pieces back. The FlatBuffers form stays inside artifact_*.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "format/hlo_module.h"
#include "format/hlo_sharding.h"
#include "format/mesh.h"
#include "format/shape.h"
#include "format/thunks.h"

namespace pjit {

// Readers accept every minor version of their major.
inline constexpr uint32_t kArtifactFormatMajor = 1;
inline constexpr uint32_t kArtifactFormatMinor = 2;  // 1: while and conditional thunks; 2: key signatures

struct Producer {
  std::string tool, version;
  std::vector<std::string> flags;
  std::string source_name;
  uint64_t source_hash = 0;
  bool operator==(const Producer&) const = default;
};

struct DeviceShard {
  int64_t device = 0;
  std::vector<int64_t> offsets;  // where the shard starts in the global array
  bool operator==(const DeviceShard&) const = default;
};

// An entry parameter or result: global shape, sharding, and what each device holds.
struct ArrayInfo {
  std::string name;
  uint32_t index = 0;
  Shape shape;
  std::optional<HloSharding> sharding;  // none: replicated
  Shape shard_shape;
  std::vector<DeviceShard> shards;
  bool operator==(const ArrayInfo&) const = default;
};

struct Signature {
  std::vector<ArrayInfo> inputs, outputs;
  bool operator==(const Signature&) const = default;
};

struct DeviceProgram {
  std::vector<int64_t> devices;
  const Module* module = nullptr;
};

struct ArtifactContents {
  Producer producer;
  Mesh mesh;
  const Module* program = nullptr;  // the global program
  Signature signature;
  std::vector<DeviceProgram> device_programs;
  ThunkPlan thunks;  // empty: no THUNKS / EXECUTABLES sections
  std::string signing_key;  // an Ed25519 private key's PEM file to sign with; empty: unsigned
};

// The entry signature of a module on `mesh`: each parameter's and result's sharding (none:
// replicated), the shape every device holds (ceil(dim / tiles)) and where its shard starts.
Signature ShardedSignature(const Module& module, const Mesh& mesh);

}  // namespace pjit
