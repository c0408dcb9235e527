// Reads .pjit artifacts. Open() maps the file and checks everything before anything is
// handed out: size prefix, identifier, FlatBuffers verification (depth and table limits),
// format version, every section's and blob's content hash, and every nested section. Each
// failure is one line naming the file, the section and the reason.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/artifact.h"
#include "format/artifact_signing.h"
#include "format/hlo_module.h"
#include "format/mapped_file.h"
#include "format/status.h"

namespace pjit {

struct SectionInfo {
  std::string name;  // mesh, program, signature, device_programs, thunks, executables, blobs
  uint64_t offset = 0;  // of the section's bytes in the file
  uint64_t bytes = 0;
  uint64_t hash = 0;
};

struct BlobInfo {
  std::string name, kind, target;
  int64_t device = -1;
  uint64_t offset = 0, size = 0, hash = 0;
};

struct LoadedDeviceProgram {
  std::vector<int64_t> devices;
  std::unique_ptr<Module> module;
};

struct ArtifactReaderOptions {
  // Off only for fuzzing, which must reach the checks behind the hashes.
  bool check_hashes = true;
};

class ArtifactReader {
 public:
  static StatusOr<std::unique_ptr<ArtifactReader>> Open(const std::string& path);
  // Reads from memory (standard input, tests, fuzzing); `name` stands for the file in errors.
  static StatusOr<std::unique_ptr<ArtifactReader>> FromBytes(std::string bytes, const std::string& name,
                                                             ArtifactReaderOptions options = {});

  uint32_t format_major() const { return major_; }
  uint32_t format_minor() const { return minor_; }
  uint64_t file_size() const { return bytes_.size(); }
  // The whole verified file (what a plugin loads).
  std::string_view bytes() const { return bytes_; }
  const Producer& producer() const { return producer_; }
  const Mesh& mesh() const { return mesh_; }
  const Signature& signature() const { return signature_; }
  const std::vector<SectionInfo>& sections() const { return sections_; }
  const std::vector<BlobInfo>& blobs() const { return blobs_; }
  // The file's name in errors.
  const std::string& name() const { return name_; }
  // pjit-compile --sign's signature, if any, and what it covers (see artifact_signing.h).
  const std::optional<KeySignature>& key_signature() const { return key_signature_; }
  SignedContent signed_content() const;
  // A view into the mapping: no copy.
  std::string_view blob_bytes(size_t index) const;

  // The global program, converted and verified.
  StatusOr<std::unique_ptr<Module>> LoadProgram() const;
  StatusOr<std::vector<LoadedDeviceProgram>> LoadDevicePrograms() const;
  // The THUNKS and EXECUTABLES sections, checked (slices inside arenas, indices in range).
  StatusOr<ThunkPlan> LoadThunks() const;

 private:
  ArtifactReader() = default;
  Status Validate();

  std::string name_;
  ArtifactReaderOptions options_;
  std::unique_ptr<MappedFile> mapped_;
  std::string owned_;
  std::string_view bytes_;
  std::vector<std::string_view> section_data_;  // by SectionKind; empty when absent
  std::string_view blob_area_;
  uint32_t major_ = 0, minor_ = 0;
  Producer producer_;
  Mesh mesh_;
  Signature signature_;
  std::optional<KeySignature> key_signature_;
  std::vector<SectionInfo> sections_;
  std::vector<BlobInfo> blobs_;
};

// True when `bytes` start like an artifact (size prefix and the "PJIT" identifier).
bool LooksLikeArtifact(std::string_view bytes);
// The same for a file, from its first bytes (the tools also read HLO text).
StatusOr<bool> IsArtifactFile(const std::string& path);

}  // namespace pjit
