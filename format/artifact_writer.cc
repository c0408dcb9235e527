#include "format/artifact_writer.h"

#include <cstdio>
#include <map>

#include "format/artifact_program.h"
#include "format/artifact_signing.h"
#include "format/artifact_thunks.h"
#include "format/content_hash.h"
#include "format/file_util.h"

namespace pjit {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

constexpr size_t kBlobAlignment = 64;

size_t RoundUp(size_t n, size_t a) { return (n + a - 1) / a * a; }

// The trailing blob area; identical blobs are stored once.
class BlobArea {
 public:
  uint32_t Add(std::string_view name, fb::BlobKind kind, std::string_view bytes, std::string_view target = "") {
    uint64_t hash = ContentHash(bytes);
    auto [it, inserted] = by_content_.try_emplace({hash, std::string(bytes)}, static_cast<uint32_t>(records_.size()));
    if (!inserted) return it->second;
    bytes_.resize(RoundUp(bytes_.size(), kBlobAlignment), '\0');
    records_.push_back({std::string(name), kind, std::string(target), bytes_.size(), bytes.size(), hash});
    bytes_.append(bytes);
    return it->second;
  }

  Offset<fb::Blobs> ToFlatBuffer(FlatBufferBuilder& b) const {
    std::vector<Offset<fb::Blob>> blobs;
    for (const Record& r : records_)
      blobs.push_back(fb::CreateBlobDirect(b, r.name.c_str(), r.kind, r.target.c_str(), -1, r.offset, r.size, r.hash));
    return fb::CreateBlobs(b, b.CreateVector(blobs));
  }

  const std::string& bytes() const { return bytes_; }

 private:
  struct Record {
    std::string name;
    fb::BlobKind kind;
    std::string target;
    uint64_t offset, size, hash;
  };
  std::vector<Record> records_;
  std::string bytes_;
  std::map<std::pair<uint64_t, std::string>, uint32_t> by_content_;
};

template <typename Build>
std::string NestedBuffer(Build build) {
  FlatBufferBuilder b;
  b.Finish(build(b));
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

Offset<fb::ArrayInfo> ArrayInfoToFlatBuffer(FlatBufferBuilder& b, const ArrayInfo& a) {
  std::vector<Offset<fb::DeviceShard>> shards;
  for (const DeviceShard& s : a.shards) shards.push_back(fb::CreateDeviceShard(b, s.device, b.CreateVector(s.offsets)));
  auto name = b.CreateString(a.name);
  auto shape = ShapeToFlatBuffer(b, a.shape);
  Offset<flatbuffers::String> sharding;
  if (a.sharding) sharding = b.CreateString(a.sharding->ToString());
  auto shard_shape = ShapeToFlatBuffer(b, a.shard_shape);
  return fb::CreateArrayInfo(b, name, a.index, shape, sharding, shard_shape, b.CreateVector(shards));
}

}  // namespace

StatusOr<std::string> SerializeArtifact(const ArtifactContents& c) {
  if (!c.program) return InvalidArgument("artifact without a program");
  BlobArea area;
  BlobSink constants = [&](std::string_view name, std::string_view bytes) {
    return area.Add(name, fb::BlobKind::CONSTANT, bytes);
  };
  std::vector<std::pair<fb::SectionKind, std::string>> sections;
  sections.emplace_back(fb::SectionKind::MESH, NestedBuffer([&](FlatBufferBuilder& b) {
    std::vector<Offset<fb::MeshAxis>> axes;
    for (const MeshAxis& a : c.mesh.axes) axes.push_back(fb::CreateMeshAxisDirect(b, a.name.c_str(), a.size));
    return fb::CreateMesh(b, b.CreateVector(axes), b.CreateVector(c.mesh.device_ids));
  }));
  sections.emplace_back(fb::SectionKind::PROGRAM, NestedBuffer([&](FlatBufferBuilder& b) {
    return ModuleToFlatBuffer(b, *c.program, constants);
  }));
  sections.emplace_back(fb::SectionKind::SIGNATURE, NestedBuffer([&](FlatBufferBuilder& b) {
    std::vector<Offset<fb::ArrayInfo>> inputs, outputs;
    for (const ArrayInfo& a : c.signature.inputs) inputs.push_back(ArrayInfoToFlatBuffer(b, a));
    for (const ArrayInfo& a : c.signature.outputs) outputs.push_back(ArrayInfoToFlatBuffer(b, a));
    return fb::CreateSignature(b, b.CreateVector(inputs), b.CreateVector(outputs));
  }));
  if (!c.device_programs.empty()) {
    sections.emplace_back(fb::SectionKind::DEVICE_PROGRAMS, NestedBuffer([&](FlatBufferBuilder& b) {
      std::vector<Offset<fb::DeviceProgram>> programs;
      for (const DeviceProgram& p : c.device_programs) {
        auto devices = b.CreateVector(p.devices);
        programs.push_back(fb::CreateDeviceProgram(b, devices, ModuleToFlatBuffer(b, *p.module, constants)));
      }
      return fb::CreateDevicePrograms(b, b.CreateVector(programs));
    }));
  }
  if (!c.thunks.sequences.empty()) {
    sections.emplace_back(fb::SectionKind::THUNKS, NestedBuffer([&](FlatBufferBuilder& b) {
      return ThunkSequencesToFlatBuffer(b, c.thunks.sequences);
    }));
    std::vector<uint32_t> binaries;
    for (const ExecutableInfo& e : c.thunks.executables)
      binaries.push_back(e.format == "hlo" ? 0 : area.Add(e.target, fb::BlobKind::BINARY, e.binary, e.target));
    sections.emplace_back(fb::SectionKind::EXECUTABLES, NestedBuffer([&](FlatBufferBuilder& b) {
      return ExecutablesToFlatBuffer(b, c.thunks.executables, binaries);
    }));
  }
  sections.emplace_back(fb::SectionKind::BLOBS, NestedBuffer([&](FlatBufferBuilder& b) { return area.ToFlatBuffer(b); }));

  FlatBufferBuilder b;
  std::vector<Offset<fb::Section>> section_offsets;
  for (const auto& [kind, data] : sections) {
    b.ForceVectorAlignment(data.size(), 1, 16);  // nested buffers hold 8-byte scalars
    auto bytes = b.CreateVector(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    section_offsets.push_back(fb::CreateSection(b, kind, bytes, ContentHash(data)));
  }
  const Producer& p = c.producer;
  auto producer = fb::CreateProducer(b, b.CreateString(p.tool), b.CreateString(p.version), b.CreateVectorOfStrings(p.flags),
                                     b.CreateString(p.source_name), p.source_hash);
  Offset<fb::KeySignature> key_signature;
  if (!c.signing_key.empty()) {
    SignedContent signed_content{kArtifactFormatMajor, kArtifactFormatMinor, &p, {}, area.bytes()};
    for (const auto& [kind, data] : sections) signed_content.sections.emplace_back(static_cast<uint8_t>(kind), data);
    PJIT_ASSIGN_OR_RETURN(KeySignature k, SignArtifact(signed_content, c.signing_key));
    auto bytes = [&](const std::string& s) { return b.CreateVector(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
    key_signature = fb::CreateKeySignature(b, b.CreateString(k.algorithm), bytes(k.public_key), bytes(k.value));
  }
  auto root = fb::CreateArtifact(b, kArtifactFormatMajor, kArtifactFormatMinor, producer, b.CreateVector(section_offsets),
                                 key_signature);
  fb::FinishSizePrefixedArtifactBuffer(b, root);
  std::string file(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  file.resize(RoundUp(file.size(), kBlobAlignment), '\0');
  file += area.bytes();
  return file;
}

Status WriteArtifact(const std::string& path, const ArtifactContents& contents) {
  PJIT_ASSIGN_OR_RETURN(std::string bytes, SerializeArtifact(contents));
  if (path != "-") return WriteFileAtomically(path, bytes);
  if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() || std::fflush(stdout) != 0)
    return IoError("cannot write the artifact to standard output");
  return OkStatus();
}

}  // namespace pjit
