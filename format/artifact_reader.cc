#include "format/artifact_reader.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <unordered_set>

#include "format/artifact_program.h"
#include "format/artifact_thunks.h"
#include "format/content_hash.h"
#include "format/file_util.h"
#include "format/mesh.h"
#include "format/verifier.h"

namespace pjit {
namespace {

constexpr size_t kBlobAlignment = 64;
constexpr int kNumSectionKinds = static_cast<int>(fb::SectionKind::MAX) + 1;

std::string SectionName(fb::SectionKind kind) {
  std::string s = fb::EnumNameSectionKind(kind);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

uint32_t ReadU32(std::string_view b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}

flatbuffers::Verifier::Options VerifierOptions() {
  flatbuffers::Verifier::Options o;
  o.max_depth = 64;
  o.max_tables = 10'000'000;
  o.check_alignment = true;
  return o;
}

template <typename T>
const T* VerifiedNested(std::string_view data) {
  flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(data.data()), data.size(), VerifierOptions());
  if (!v.VerifyBuffer<T>(nullptr)) return nullptr;
  return flatbuffers::GetRoot<T>(data.data());
}

bool VerifyNestedOfKind(fb::SectionKind kind, std::string_view data) {
  switch (kind) {
    case fb::SectionKind::MESH: return VerifiedNested<fb::Mesh>(data);
    case fb::SectionKind::PROGRAM: return VerifiedNested<fb::Module>(data);
    case fb::SectionKind::SIGNATURE: return VerifiedNested<fb::Signature>(data);
    case fb::SectionKind::DEVICE_PROGRAMS: return VerifiedNested<fb::DevicePrograms>(data);
    case fb::SectionKind::THUNKS: return VerifiedNested<fb::ThunkSequences>(data);
    case fb::SectionKind::EXECUTABLES: return VerifiedNested<fb::Executables>(data);
    case fb::SectionKind::BLOBS: return VerifiedNested<fb::Blobs>(data);
  }
  return false;
}

StatusOr<ArrayInfo> ArrayInfoFromFlatBuffer(const fb::ArrayInfo* a, const std::unordered_set<int64_t>& mesh_devices) {
  ArrayInfo info;
  info.name = a->name() ? a->name()->str() : "";
  info.index = a->index();
  PJIT_ASSIGN_OR_RETURN(info.shape, ShapeFromFlatBuffer(a->shape()));
  if (a->sharding()) {
    PJIT_ASSIGN_OR_RETURN(info.sharding, ParseHloSharding(a->sharding()->string_view()));
  }
  PJIT_ASSIGN_OR_RETURN(info.shard_shape, ShapeFromFlatBuffer(a->shard_shape()));
  if (a->shards()) {
    for (const fb::DeviceShard* s : *a->shards()) {
      DeviceShard shard{s->device(), ReadLongs(s->offsets())};
      if (shard.offsets.size() != info.shape.dims.size()) return InvalidArgument("'", info.name, "': shard offsets do not match the rank");
      if (!mesh_devices.count(shard.device))
        return InvalidArgument("'", info.name, "': shard on device ", shard.device, ", which is not in the mesh");
      info.shards.push_back(std::move(shard));
    }
  }
  return info;
}

}  // namespace

bool LooksLikeArtifact(std::string_view bytes) {
  if (bytes.size() >= 12) return flatbuffers::BufferHasIdentifier(bytes.data(), fb::ArtifactIdentifier(), true);
  // Shorter than the header: no HLO module is this short, so it is a truncated artifact (and
  // refused as one) unless the identifier bytes it has say otherwise.
  std::string_view id(fb::ArtifactIdentifier(), 4);
  return bytes.size() <= 8 || id.starts_with(bytes.substr(8));
}

StatusOr<bool> IsArtifactFile(const std::string& path) {
  PJIT_ASSIGN_OR_RETURN(std::string head, ReadFilePrefix(path, 16));
  return LooksLikeArtifact(head);
}

StatusOr<std::unique_ptr<ArtifactReader>> ArtifactReader::Open(const std::string& path) {
  PJIT_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> mapped, MappedFile::Open(path));
  std::unique_ptr<ArtifactReader> r(new ArtifactReader());
  r->name_ = path;
  r->bytes_ = mapped->bytes();
  r->mapped_ = std::move(mapped);
  PJIT_RETURN_IF_ERROR(r->Validate());
  return r;
}

StatusOr<std::unique_ptr<ArtifactReader>> ArtifactReader::FromBytes(std::string bytes, const std::string& name,
                                                                   ArtifactReaderOptions options) {
  std::unique_ptr<ArtifactReader> r(new ArtifactReader());
  r->name_ = name;
  r->options_ = options;
  r->owned_ = std::move(bytes);
  r->bytes_ = r->owned_;
  PJIT_RETURN_IF_ERROR(r->Validate());
  return r;
}

Status ArtifactReader::Validate() {
  auto fail = [&](const auto&... args) { return InvalidArgument(name_, ": ", args...); };
  if (bytes_.size() < 12) return fail("too small to be a .pjit artifact (", bytes_.size(), " bytes)");
  if (!LooksLikeArtifact(bytes_)) return fail("not a .pjit artifact (no PJIT identifier)");
  uint64_t metadata_size = uint64_t{4} + ReadU32(bytes_, 0);
  if (metadata_size > bytes_.size())
    return fail("truncated: the metadata claims ", metadata_size, " bytes, the file has ", bytes_.size());
  if (reinterpret_cast<uintptr_t>(bytes_.data()) % 16 != 0) {
    // Keep FlatBuffers' alignment checks meaningful for buffers from memory.
    owned_ = std::string(bytes_);
    bytes_ = owned_;
  }
  {
    flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(bytes_.data()), static_cast<size_t>(metadata_size), VerifierOptions());
    if (!fb::VerifySizePrefixedArtifactBuffer(v)) return fail("header: fails FlatBuffers verification (the file is damaged)");
  }
  const fb::Artifact* root = fb::GetSizePrefixedArtifact(bytes_.data());
  major_ = root->format_major();
  minor_ = root->format_minor();
  if (major_ != kArtifactFormatMajor)
    return fail("artifact format ", major_, ".", minor_, ", this pjit reads ", kArtifactFormatMajor, ".x; recompile with pjit-compile ", PJIT_VERSION);
  if (const fb::Producer* p = root->producer()) {
    auto str = [](const flatbuffers::String* s) { return s ? s->str() : std::string(); };
    producer_.tool = str(p->tool());
    producer_.version = str(p->version());
    if (p->flags())
      for (const flatbuffers::String* f : *p->flags()) producer_.flags.push_back(f->str());
    producer_.source_name = str(p->source_name());
    producer_.source_hash = p->source_hash();
  }
  if (const fb::KeySignature* k = root->key_signature()) {
    auto bytes = [](const flatbuffers::Vector<uint8_t>* v) {
      return v ? std::string(reinterpret_cast<const char*>(v->data()), v->size()) : std::string();
    };
    key_signature_ = KeySignature{k->algorithm() ? k->algorithm()->str() : "", bytes(k->public_key()), bytes(k->value())};
  }
  section_data_.assign(kNumSectionKinds, {});
  if (!root->sections()) return fail("no sections");
  int previous = -1;
  for (const fb::Section* s : *root->sections()) {
    int kind = static_cast<int>(s->kind());
    if (kind < 0 || kind >= kNumSectionKinds) return fail("unknown section kind ", kind);
    std::string name = SectionName(s->kind());
    if (kind <= previous) return fail("section '", name, "': out of order or repeated");
    previous = kind;
    if (!s->data()) return fail("section '", name, "': no data");
    std::string_view data(reinterpret_cast<const char*>(s->data()->data()), s->data()->size());
    // The writer aligns nested buffers to 16; anything else would make 8-byte reads misaligned.
    if (reinterpret_cast<uintptr_t>(data.data()) % 16 != 0) return fail("section '", name, "': misaligned (the file is damaged)");
    if (options_.check_hashes && ContentHash(data) != s->hash())
      return fail("section '", name, "': content hash mismatch (the file is damaged)");
    if (!VerifyNestedOfKind(s->kind(), data)) return fail("section '", name, "': fails FlatBuffers verification");
    section_data_[kind] = data;
    sections_.push_back({name, static_cast<uint64_t>(data.data() - bytes_.data()), data.size(), s->hash()});
  }
  for (fb::SectionKind required : {fb::SectionKind::MESH, fb::SectionKind::PROGRAM, fb::SectionKind::SIGNATURE, fb::SectionKind::BLOBS})
    if (section_data_[static_cast<int>(required)].empty()) return fail("section '", SectionName(required), "' is missing");

  // Blobs: aligned, inside the blob area, with matching hashes.
  size_t area_start = (static_cast<size_t>(metadata_size) + kBlobAlignment - 1) / kBlobAlignment * kBlobAlignment;
  blob_area_ = area_start <= bytes_.size() ? bytes_.substr(area_start) : std::string_view();
  const fb::Blobs* blobs = flatbuffers::GetRoot<fb::Blobs>(section_data_[static_cast<int>(fb::SectionKind::BLOBS)].data());
  if (blobs->blobs()) {
    for (const fb::Blob* b : *blobs->blobs()) {
      BlobInfo info{b->name() ? b->name()->str() : "", fb::EnumNameBlobKind(b->kind()), b->target() ? b->target()->str() : "",
                    b->device(), b->offset(), b->size(), b->hash()};
      std::string which = "section 'blobs': blob " + std::to_string(blobs_.size()) + " ('" + info.name + "')";
      if (info.offset % kBlobAlignment) return fail(which, ": offset ", info.offset, " is not 64-byte aligned");
      if (info.offset > blob_area_.size() || info.size > blob_area_.size() - info.offset)
        return fail(which, ": bytes ", info.offset, "+", info.size, " lie outside the blob area (", blob_area_.size(), " bytes)");
      if (options_.check_hashes && ContentHash(blob_area_.data() + info.offset, info.size) != info.hash)
        return fail(which, ": content hash mismatch (the file is damaged)");
      blobs_.push_back(std::move(info));
    }
  }

  const fb::Mesh* mesh = flatbuffers::GetRoot<fb::Mesh>(section_data_[static_cast<int>(fb::SectionKind::MESH)].data());
  int64_t devices = 1;
  if (mesh->axes())
    for (const fb::MeshAxis* a : *mesh->axes()) {
      if (a->size() < 1 || a->size() > kMaxMeshDevices || devices * a->size() > kMaxMeshDevices)
        return fail("section 'mesh': axis size ", a->size(), " is out of range");
      devices *= a->size();
      mesh_.axes.push_back({a->name() ? a->name()->str() : "", a->size()});
    }
  mesh_.device_ids = ReadLongs(mesh->device_ids());
  if (static_cast<int64_t>(mesh_.device_ids.size()) != devices)
    return fail("section 'mesh': ", mesh_.device_ids.size(), " device ids for a mesh of ", devices, " devices");

  const std::unordered_set<int64_t> mesh_devices(mesh_.device_ids.begin(), mesh_.device_ids.end());
  const fb::Signature* sig = flatbuffers::GetRoot<fb::Signature>(section_data_[static_cast<int>(fb::SectionKind::SIGNATURE)].data());
  for (auto [list, out] : {std::pair{sig->inputs(), &signature_.inputs}, std::pair{sig->outputs(), &signature_.outputs}}) {
    if (!list) continue;
    for (const fb::ArrayInfo* a : *list) {
      StatusOr<ArrayInfo> info = ArrayInfoFromFlatBuffer(a, mesh_devices);
      if (!info.ok()) return fail("section 'signature': ", info.status().message());
      out->push_back(std::move(*info));
    }
  }
  return OkStatus();
}

SignedContent ArtifactReader::signed_content() const {
  SignedContent c{major_, minor_, &producer_, {}, blob_area_};
  for (size_t kind = 0; kind < section_data_.size(); ++kind)
    if (!section_data_[kind].empty()) c.sections.emplace_back(static_cast<uint8_t>(kind), section_data_[kind]);
  return c;
}

std::string_view ArtifactReader::blob_bytes(size_t index) const {
  const BlobInfo& b = blobs_.at(index);
  return blob_area_.substr(b.offset, b.size);
}

StatusOr<std::unique_ptr<Module>> ArtifactReader::LoadProgram() const {
  std::string_view data = section_data_[static_cast<int>(fb::SectionKind::PROGRAM)];
  BlobSource source = [this](int64_t i) -> StatusOr<std::string_view> {
    if (i < 0 || static_cast<size_t>(i) >= blobs_.size()) return InvalidArgument("blob index ", i, " out of range");
    return blob_bytes(static_cast<size_t>(i));
  };
  StatusOr<std::unique_ptr<Module>> m = ModuleFromFlatBuffer(flatbuffers::GetRoot<fb::Module>(data.data()), source);
  if (!m.ok()) return InvalidArgument(name_, ": section 'program': ", m.status().message());
  Status verified = VerifyModule(**m);
  if (!verified.ok()) return InvalidArgument(name_, ": section 'program': ", verified.message());
  return m;
}

StatusOr<std::vector<LoadedDeviceProgram>> ArtifactReader::LoadDevicePrograms() const {
  std::vector<LoadedDeviceProgram> out;
  std::string_view data = section_data_[static_cast<int>(fb::SectionKind::DEVICE_PROGRAMS)];
  if (data.empty()) return out;
  BlobSource source = [this](int64_t i) -> StatusOr<std::string_view> {
    if (i < 0 || static_cast<size_t>(i) >= blobs_.size()) return InvalidArgument("blob index ", i, " out of range");
    return blob_bytes(static_cast<size_t>(i));
  };
  const fb::DevicePrograms* programs = flatbuffers::GetRoot<fb::DevicePrograms>(data.data());
  if (!programs->programs()) return out;
  for (const fb::DeviceProgram* p : *programs->programs()) {
    StatusOr<std::unique_ptr<Module>> m = ModuleFromFlatBuffer(p->module_(), source);
    if (m.ok()) {
      Status verified = VerifyModule(**m);
      if (!verified.ok()) m = verified;
    }
    if (!m.ok()) return InvalidArgument(name_, ": section 'device_programs': ", m.status().message());
    LoadedDeviceProgram loaded;
    loaded.devices = ReadLongs(p->devices());
    loaded.module = std::move(*m);
    out.push_back(std::move(loaded));
  }
  return out;
}

StatusOr<ThunkPlan> ArtifactReader::LoadThunks() const {
  std::string_view thunks = section_data_[static_cast<int>(fb::SectionKind::THUNKS)];
  std::string_view executables = section_data_[static_cast<int>(fb::SectionKind::EXECUTABLES)];
  StatusOr<ThunkPlan> plan = ThunkPlanFromFlatBuffer(
      thunks.empty() ? nullptr : flatbuffers::GetRoot<fb::ThunkSequences>(thunks.data()),
      executables.empty() ? nullptr : flatbuffers::GetRoot<fb::Executables>(executables.data()),
      [this](uint32_t index) -> StatusOr<std::string_view> {
        if (index >= blobs_.size()) return InvalidArgument("executable binary is blob ", index, " of ", blobs_.size());
        return blob_bytes(index);
      });
  if (!plan.ok()) return InvalidArgument(name_, ": section 'thunks': ", plan.status().message());
  return plan;
}

}  // namespace pjit
