// Damaged and hostile artifacts: every one gives its clear one-line error, none crashes.
// Crafted files are rebuilt with the generated schema API and recomputed hashes, so that the
// checks behind the hashes are reached.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "format/artifact_generated.h"
#include "format/artifact_reader.h"
#include "format/artifact_writer.h"
#include "format/content_hash.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Artifact(const std::string& name = "conv_block") {
  auto m = ParseHloFile(testing::TestdataPath(name + ".hlo"));
  EXPECT_TRUE(m.ok());
  ArtifactContents c;
  c.producer = {"pjit-compile", "test", {}, name + ".hlo", 1};
  c.mesh = Mesh::Linear(8);
  c.program = m->get();
  c.signature = ShardedSignature(**m, c.mesh);
  c.device_programs.push_back({{0}, m->get()});
  auto bytes = SerializeArtifact(c);
  EXPECT_TRUE(bytes.ok());
  return *bytes;
}

std::string ErrorOf(const std::string& bytes) {
  auto r = ArtifactReader::FromBytes(bytes, "x.pjit");
  if (!r.ok()) return r.status().message();
  auto p = (*r)->LoadProgram();
  if (!p.ok()) return p.status().message();
  auto d = (*r)->LoadDevicePrograms();
  return d.ok() ? "" : d.status().message();
}

using SectionEdit = std::function<void(fb::SectionKind, std::string&)>;

// Rebuilds `file` with another version and edited section bytes; the blob area is kept.
std::string Rebuild(const std::string& file, uint32_t major, uint32_t minor, const SectionEdit& edit = nullptr) {
  const fb::Artifact* root = fb::GetSizePrefixedArtifact(file.data());
  uint32_t metadata = 4 + *reinterpret_cast<const uint32_t*>(file.data());
  std::string area = file.substr((metadata + 63) / 64 * 64);
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<fb::Section>> sections;
  for (const fb::Section* s : *root->sections()) {
    std::string data(reinterpret_cast<const char*>(s->data()->data()), s->data()->size());
    if (edit) edit(s->kind(), data);
    b.ForceVectorAlignment(data.size(), 1, 16);
    auto bytes = b.CreateVector(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    sections.push_back(fb::CreateSection(b, s->kind(), bytes, ContentHash(data)));
  }
  auto producer = fb::CreateProducerDirect(b, "pjit-compile", "test");
  fb::FinishSizePrefixedArtifactBuffer(b, fb::CreateArtifact(b, major, minor, producer, b.CreateVector(sections)));
  std::string out(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  out.resize((out.size() + 63) / 64 * 64, '\0');
  return out + area;
}

template <typename T>
std::string Nested(flatbuffers::FlatBufferBuilder& b, flatbuffers::Offset<T> root) {
  b.Finish(root);
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

TEST(ArtifactHostile, TooSmallAndTruncated) {
  std::string file = Artifact();
  EXPECT_EQ(ErrorOf(""), "x.pjit: too small to be a .pjit artifact (0 bytes)");
  for (size_t n = 1; n < file.size(); n += (n < 256 ? 1 : 97)) {
    std::string error = ErrorOf(file.substr(0, n));
    ASSERT_THAT(error, StartsWith("x.pjit: ")) << "prefix of " << n << " bytes was accepted";
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }
  // However short, a prefix of an artifact is taken for one (and refused as truncated), not
  // for HLO text; text whose bytes 8.. are not the identifier's start is not.
  for (size_t n = 0; n < 12; ++n) EXPECT_TRUE(LooksLikeArtifact(file.substr(0, n))) << n << " bytes";
  EXPECT_FALSE(LooksLikeArtifact("HloModule "));
  EXPECT_FALSE(LooksLikeArtifact("HloModule m\nENTRY e {}\n"));
}

TEST(ArtifactHostile, WrongIdentifier) {
  std::string file = Artifact();
  file[8] = 'X';
  EXPECT_EQ(ErrorOf(file), "x.pjit: not a .pjit artifact (no PJIT identifier)");
  EXPECT_EQ(ErrorOf("HloModule m\nENTRY e {}\n"), "x.pjit: not a .pjit artifact (no PJIT identifier)");
}

TEST(ArtifactHostile, FutureMajorIsRefusedNewerMinorIsRead) {
  std::string file = Artifact();
  EXPECT_EQ(ErrorOf(Rebuild(file, 2, 1)), "x.pjit: artifact format 2.1, this pjit reads 1.x; recompile with pjit-compile 0.1.0");
  EXPECT_EQ(ErrorOf(Rebuild(file, 1, 7)), "");
}

TEST(ArtifactHostile, FlippedBytesInEverySectionNameTheSection) {
  std::string file = Artifact();
  auto reader = ArtifactReader::FromBytes(file, "x.pjit");
  ASSERT_TRUE(reader.ok());
  ASSERT_GE((*reader)->sections().size(), 5u);
  for (const SectionInfo& s : (*reader)->sections()) {
    for (uint64_t at : {s.offset, s.offset + s.bytes / 2, s.offset + s.bytes - 1}) {
      std::string damaged = file;
      damaged[at] ^= 0x10;
      EXPECT_EQ(ErrorOf(damaged), "x.pjit: section '" + s.name + "': content hash mismatch (the file is damaged)") << at;
    }
  }
  const BlobInfo& blob = (*reader)->blobs().at(0);
  uint64_t area = file.size() - [&] { uint64_t end = 0; for (const BlobInfo& b : (*reader)->blobs()) end = std::max(end, b.offset + b.size); return end; }();
  std::string damaged = file;
  damaged[area + blob.offset] ^= 1;
  EXPECT_THAT(ErrorOf(damaged), HasSubstr("section 'blobs': blob 0 ('" + blob.name + "'): content hash mismatch"));
}

TEST(ArtifactHostile, EveryByteOfTheHeaderFlippedNeverCrashes) {
  std::string file = Artifact("mlp");
  auto reader = ArtifactReader::FromBytes(file, "x.pjit");
  ASSERT_TRUE(reader.ok());
  uint64_t header_end = (*reader)->sections()[0].offset;
  for (uint64_t at = 0; at < header_end; ++at) {
    for (char mask : {'\x01', '\x80', '\xff'}) {
      std::string damaged = file;
      damaged[at] ^= mask;
      std::string error = ErrorOf(damaged);  // some flips hit padding and are harmless
      if (!error.empty()) {
        EXPECT_THAT(error, StartsWith("x.pjit: "));
      }
    }
  }
}

TEST(ArtifactHostile, AbsurdBlobOffsetsAndSizes) {
  std::string file = Artifact();
  auto with_blob = [&](uint64_t offset, uint64_t size) {
    return Rebuild(file, 1, 0, [&](fb::SectionKind kind, std::string& data) {
      if (kind != fb::SectionKind::BLOBS) return;
      flatbuffers::FlatBufferBuilder b;
      std::vector<flatbuffers::Offset<fb::Blob>> blobs = {fb::CreateBlobDirect(b, "w", fb::BlobKind::CONSTANT, "", -1, offset, size, 0)};
      data = Nested(b, fb::CreateBlobs(b, b.CreateVector(blobs)));
    });
  };
  EXPECT_THAT(ErrorOf(with_blob(uint64_t{1} << 60, 64)), HasSubstr("lie outside the blob area"));
  EXPECT_THAT(ErrorOf(with_blob(0, ~uint64_t{0})), HasSubstr("lie outside the blob area"));
  EXPECT_THAT(ErrorOf(with_blob(~uint64_t{0} - 63, 64)), HasSubstr("lie outside the blob area"));
  EXPECT_THAT(ErrorOf(with_blob(8, 4)), HasSubstr("offset 8 is not 64-byte aligned"));
}

TEST(ArtifactHostile, AbsurdMesh) {
  std::string file = Artifact();
  auto with_mesh = [&](std::vector<std::pair<const char*, int64_t>> axes, std::vector<int64_t> ids) {
    return Rebuild(file, 1, 0, [&](fb::SectionKind kind, std::string& data) {
      if (kind != fb::SectionKind::MESH) return;
      flatbuffers::FlatBufferBuilder b;
      std::vector<flatbuffers::Offset<fb::MeshAxis>> fa;
      for (auto [name, size] : axes) fa.push_back(fb::CreateMeshAxisDirect(b, name, size));
      data = Nested(b, fb::CreateMesh(b, b.CreateVector(fa), b.CreateVector(ids)));
    });
  };
  EXPECT_THAT(ErrorOf(with_mesh({{"x", 0}}, {})), HasSubstr("section 'mesh': axis size 0 is out of range"));
  EXPECT_THAT(ErrorOf(with_mesh({{"x", int64_t{1} << 40}}, {0})), HasSubstr("out of range"));
  EXPECT_THAT(ErrorOf(with_mesh({{"x", 2}}, {0})), HasSubstr("section 'mesh': 1 device ids for a mesh of 2 devices"));
  // The signature's shards name devices 0..7; a mesh without them is inconsistent.
  EXPECT_THAT(ErrorOf(with_mesh({{"x", 8}}, {10, 11, 12, 13, 14, 15, 16, 17})), HasSubstr("section 'signature':"));
}

// A program whose instruction refers to a later instruction (a cycle in disguise).
TEST(ArtifactHostile, ProgramWithBadIndices) {
  std::string file = Artifact();
  auto with_program = [&](uint32_t operand, uint32_t root, uint32_t entry, const char* opcode) {
    return Rebuild(file, 1, 0, [&](fb::SectionKind kind, std::string& data) {
      if (kind != fb::SectionKind::PROGRAM) return;
      flatbuffers::FlatBufferBuilder b;
      auto shape = fb::CreateShape(b, fb::DType::F32, b.CreateVector(std::vector<int64_t>{2}));
      auto p = fb::CreateInstructionDirect(b, "p", "parameter", shape);
      std::vector<uint32_t> operands = {operand};
      auto shape2 = fb::CreateShape(b, fb::DType::F32, b.CreateVector(std::vector<int64_t>{2}));
      fb::InstructionBuilder nb(b);
      auto name = b.CreateString("n");
      auto op = b.CreateString(opcode);
      auto ops = b.CreateVector(operands);
      nb.add_name(name);
      nb.add_opcode(op);
      nb.add_shape(shape2);
      nb.add_operands(ops);
      auto n = nb.Finish();
      std::vector<flatbuffers::Offset<fb::Instruction>> instrs = {p, n};
      auto comp = fb::CreateComputationDirect(b, "e", &instrs, root);
      std::vector<flatbuffers::Offset<fb::Computation>> comps = {comp};
      data = Nested(b, fb::CreateModuleDirect(b, "m", &comps, entry));
    });
  };
  EXPECT_EQ(ErrorOf(with_program(0, 1, 0, "negate")), "") << "the well-formed variant loads";
  EXPECT_THAT(ErrorOf(with_program(1, 1, 0, "negate")), HasSubstr("section 'program': computation 'e': n: operand 1 is not an earlier instruction"));
  EXPECT_THAT(ErrorOf(with_program(77, 1, 0, "negate")), HasSubstr("operand 77 is not an earlier instruction"));
  EXPECT_THAT(ErrorOf(with_program(0, 9, 0, "negate")), HasSubstr("root index out of range"));
  EXPECT_THAT(ErrorOf(with_program(0, 1, 3, "negate")), HasSubstr("entry computation index out of range"));
  EXPECT_THAT(ErrorOf(with_program(0, 1, 0, "frobnicate")), HasSubstr("unknown opcode 'frobnicate'"));
  EXPECT_THAT(ErrorOf(with_program(0, 1, 0, "dot")), HasSubstr("section 'program':"));
}

// Nested thunk lists: a thunk may name only lists after its own (so they cannot cycle), in
// range, with a one-byte predicate, an index of a pred or an s32, and not too deep.
TEST(ArtifactHostile, ControlFlowThunksNameOnlyLaterListsOfTheRightShape) {
  auto m = ParseHloFile(testing::TestdataPath("while_loop.hlo"));
  ASSERT_TRUE(m.ok());
  auto error_of = [&](const ThunkSequence& sequence) -> std::string {
    ArtifactContents c;
    c.mesh = Mesh::Linear(1);
    c.program = m->get();
    c.signature = ShardedSignature(**m, c.mesh);
    c.device_programs.push_back({{0}, m->get()});
    c.thunks.executables.push_back(ExecutableInfo{"hlo", "hlo", {}, {}, {}, {}, {}});
    c.thunks.sequences.push_back(sequence);
    auto bytes = SerializeArtifact(c);
    EXPECT_TRUE(bytes.ok());
    auto r = ArtifactReader::FromBytes(*bytes, "x.pjit");
    if (!r.ok()) return r.status().message();
    auto plan = (*r)->LoadThunks();
    return plan.ok() ? "" : plan.status().message();
  };
  ThunkSequence good;
  good.arena_bytes = 64;
  good.thunks.push_back(WhileThunk{0, 1, {0, 1}, "w"});
  good.nested = {{ConditionalThunk{{4, 4}, false, {2, 2}, "c"}}, {}, {CopyThunk{{8, 4}, {12, 4}}}};
  EXPECT_EQ(error_of(good), "") << "the well-formed plan loads";
  ThunkSequence self = good;
  self.nested[0][0] = WhileThunk{0, 2, {0, 1}, "w"};
  EXPECT_THAT(error_of(self), HasSubstr("nested list 0 thunk 0: names thunk list 0, not one of the 3 nested lists after its own"));
  ThunkSequence past = good;
  past.thunks[0] = WhileThunk{0, 3, {0, 1}, "w"};
  EXPECT_THAT(error_of(past), HasSubstr("thunk 0: names thunk list 3"));
  ThunkSequence wide = good;
  wide.thunks[0] = WhileThunk{0, 1, {0, 4}, "w"};
  EXPECT_THAT(error_of(wide), HasSubstr("while predicate of 4 bytes"));
  ThunkSequence three = good;
  three.nested[0][0] = ConditionalThunk{{4, 1}, true, {1, 2, 2}, "c"};
  EXPECT_THAT(error_of(three), HasSubstr("conditional with a 1-byte index and 3 branches"));
  ThunkSequence outside = good;
  outside.nested[0][0] = ConditionalThunk{{64, 4}, false, {1}, "c"};
  EXPECT_THAT(error_of(outside), HasSubstr("outside the arena"));
  ThunkSequence deep;
  deep.arena_bytes = 64;
  deep.thunks.push_back(ConditionalThunk{{0, 4}, false, {0}, "c"});
  for (uint32_t l = 0; l < 70; ++l) {
    deep.nested.emplace_back();
    if (l + 1 < 70) deep.nested.back().push_back(ConditionalThunk{{0, 4}, false, {l + 1}, "c"});
  }
  EXPECT_THAT(error_of(deep), HasSubstr("nests 70 deep, more than 64"));
}

TEST(ArtifactHostile, MissingSection) {
  std::string file = Artifact();
  const fb::Artifact* root = fb::GetSizePrefixedArtifact(file.data());
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<fb::Section>> sections;
  for (const fb::Section* s : *root->sections()) {
    if (s->kind() == fb::SectionKind::SIGNATURE) continue;
    b.ForceVectorAlignment(s->data()->size(), 1, 16);
    sections.push_back(fb::CreateSection(b, s->kind(), b.CreateVector(s->data()->data(), s->data()->size()), s->hash()));
  }
  fb::FinishSizePrefixedArtifactBuffer(b, fb::CreateArtifact(b, 1, 0, 0, b.CreateVector(sections)));
  std::string out(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  EXPECT_EQ(ErrorOf(out), "x.pjit: section 'signature' is missing");
}

}  // namespace
}  // namespace pjit
