// The artifact holds the program losslessly, is byte-for-byte deterministic, and is read in
// place from the mapping.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "compile/pipeline.h"
#include "compile/thunk_lowering.h"
#include "format/artifact_reader.h"
#include "format/artifact_signing.h"
#include "format/artifact_writer.h"
#include "format/content_hash.h"
#include "format/verifier.h"
#include "tests/module_equality.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

namespace fs = std::filesystem;

ArtifactContents ContentsFor(const Module& m) {
  ArtifactContents c;
  c.producer = {"pjit-compile", "test", {"--flag"}, "m.hlo", 42};
  c.mesh = Mesh::Linear(8);  // the sharded testdata modules use 8 devices
  c.program = &m;
  c.signature = ShardedSignature(m, c.mesh);
  c.device_programs.push_back({{0}, &m});
  return c;
}

TEST(Artifact, EveryTestdataModuleRoundTrips) {
  for (const std::string& name : testing::TestdataModules()) {
    SCOPED_TRACE(name);
    auto m = ParseHloFile(testing::TestdataPath(name + ".hlo"));
    ASSERT_TRUE(m.ok());
    ArtifactContents contents = ContentsFor(**m);
    auto bytes = SerializeArtifact(contents);
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    auto reader = ArtifactReader::FromBytes(*bytes, name + ".pjit");
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    EXPECT_EQ((*reader)->producer(), contents.producer);
    EXPECT_EQ((*reader)->mesh(), contents.mesh);
    EXPECT_EQ((*reader)->signature(), contents.signature);
    auto program = (*reader)->LoadProgram();
    ASSERT_TRUE(program.ok()) << program.status().message();
    testing::ExpectSameModule(**m, **program);
    auto devices = (*reader)->LoadDevicePrograms();
    ASSERT_TRUE(devices.ok()) << devices.status().message();
    ASSERT_EQ(devices->size(), 1u);
    EXPECT_EQ((*devices)[0].devices, std::vector<int64_t>{0});
    testing::ExpectSameModule(**m, *(*devices)[0].module);
  }
}

// The per-device program keeps where each instruction came from, and the thunk plan its buffer
// table, through the artifact.
TEST(Artifact, PartitionedProgramAndPlanRoundTrip) {
  CompileOptions options;
  options.input = "mlp.hlo";
  options.mesh = "data=2,model=2";
  options.in_shardings = {"0=data,_", "1=_,model", "2=model"};
  options.out_shardings = {"0=data,_"};
  auto text = ReadFileToString(testing::TestdataPath("mlp.hlo"));
  ASSERT_TRUE(text.ok());
  auto compiled = CompileText(*text, options);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  auto plan = LowerToThunks(*compiled->device);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  ArtifactContents c;
  c.mesh = compiled->mesh;
  c.program = compiled->global.get();
  c.signature = ShardedSignature(*compiled->global, c.mesh);
  c.device_programs.push_back({{0, 1, 2, 3}, compiled->device.get()});
  c.thunks = *plan;
  auto bytes = SerializeArtifact(c);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto reader = ArtifactReader::FromBytes(*bytes, "mlp.pjit");
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  auto devices = (*reader)->LoadDevicePrograms();
  ASSERT_TRUE(devices.ok()) << devices.status().message();
  testing::ExpectSameModule(*compiled->device, *(*devices)[0].module);
  const Instruction* gather = nullptr;
  for (const auto& in : (*devices)[0].module->entry->instructions)
    if (in->opcode == Opcode::kAllGather) gather = in.get();
  ASSERT_NE(gather, nullptr) << "the data-only output needs its model split gathered";
  EXPECT_EQ(gather->spmd_origin.instruction, "call.15.maximum.14");
  EXPECT_EQ(gather->spmd_origin.resharded, "add.9");
  EXPECT_EQ(gather->spmd_origin.to_sharding, "{devices=[2,1,2]<=[4] last_tile_dim_replicate}");
  auto read_plan = (*reader)->LoadThunks();
  ASSERT_TRUE(read_plan.ok()) << read_plan.status().message();
  EXPECT_EQ(*read_plan, *plan);
  EXPECT_FALSE(read_plan->sequences[0].buffers.empty());
}

// While and conditional thunks with their nested lists (format 1.1) read back as written.
TEST(Artifact, ControlFlowPlansRoundTrip) {
  for (const char* name : {"while_loop", "conditional"}) {
    SCOPED_TRACE(name);
    auto m = ParseHloFile(testing::TestdataPath(std::string(name) + ".hlo"));
    ASSERT_TRUE(m.ok());
    auto plan = LowerToThunks(**m, FindModuleLoopFusions(**m));
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    ASSERT_FALSE(plan->sequences[0].nested.empty());
    ArtifactContents c = ContentsFor(**m);
    c.thunks = *plan;
    auto bytes = SerializeArtifact(c);
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    auto reader = ArtifactReader::FromBytes(*bytes, "x.pjit");
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    auto read = (*reader)->LoadThunks();
    ASSERT_TRUE(read.ok()) << read.status().message();
    EXPECT_EQ(*read, *plan);
  }
}

TEST(Artifact, SameInputSameBytes) {
  fs::path dir = fs::temp_directory_path() / ("pjit_artifact_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const char* name : {"transformer_block_sharded", "conv_block", "while_loop"}) {
    std::string input = testing::TestdataPath(std::string(name) + ".hlo");
    CompileOptions options;
    options.input = input;
    options.output = (dir / "a.pjit").string();
    ASSERT_TRUE(Compile(options).ok());
    options.output = (dir / "b.pjit").string();
    ASSERT_TRUE(Compile(options).ok());
    EXPECT_EQ(*ReadFileToString((dir / "a.pjit").string()), *ReadFileToString((dir / "b.pjit").string())) << name;
  }
  fs::remove_all(dir);
}

TEST(Artifact, SharedConstantsAreStoredOnce) {
  auto m = testing::ParseOrDie(R"(HloModule m
ENTRY e {
  a = f32[4] constant({1, 2, 3, 4})
  b = f32[4] constant({1, 2, 3, 4})
  c = f32[4] constant({5, 6, 7, 8})
  ab = f32[4] add(a, b)
  ROOT r = f32[4] add(ab, c)
})");
  auto bytes = SerializeArtifact(ContentsFor(*m));
  ASSERT_TRUE(bytes.ok());
  auto reader = ArtifactReader::FromBytes(*bytes, "m.pjit");
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  ASSERT_EQ((*reader)->blobs().size(), 2u);  // a and b share one blob; the device program reuses both
  auto program = (*reader)->LoadProgram();
  ASSERT_TRUE(program.ok());
  EXPECT_EQ((*program)->entry->Find("b")->literal.GetAsDouble(3), 4.0);
  EXPECT_EQ((*program)->entry->Find("c")->literal.GetAsDouble(0), 5.0);
}

TEST(Artifact, BlobsAreReadInPlaceFromTheMapping) {
  auto m = testing::ParseOrDie("HloModule m\nENTRY e {\n  ROOT c = s32[3] constant({7, 8, 9})\n}");
  fs::path path = fs::temp_directory_path() / ("pjit_inplace_" + std::to_string(::getpid()) + ".pjit");
  ASSERT_TRUE(WriteArtifact(path.string(), ContentsFor(*m)).ok());
  auto reader = ArtifactReader::Open(path.string());
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  ASSERT_EQ((*reader)->blobs().size(), 1u);
  std::string_view blob = (*reader)->blob_bytes(0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(blob.data()) % 64, 0u) << "a page-aligned mapping plus a 64-aligned offset";
  int32_t values[3];
  std::memcpy(values, blob.data(), sizeof values);
  EXPECT_EQ(values[2], 9);
  EXPECT_EQ((*reader)->blobs()[0].hash, ContentHash(blob));
  fs::remove(path);
}

// Shard offsets on the JAX mesh data=2,model=4 (device d at data=d/4, model=d%4).
TEST(Artifact, ShardShapesAndOffsets) {
  auto m = ParseHloFile(testing::TestdataPath("mlp_sharded.hlo"));
  ASSERT_TRUE(m.ok());
  Mesh mesh = Mesh::Linear(8);
  mesh.axes = {{"data", 2}, {"model", 4}};
  Signature sig = ShardedSignature(**m, mesh);
  // x: f32[16,32] split by data: devices 0-3 hold rows 0-7, devices 4-7 rows 8-15.
  const ArrayInfo& x = sig.inputs[0];
  EXPECT_EQ(x.shard_shape.ToString(false), "f32[8,32]");
  ASSERT_EQ(x.shards.size(), 8u);
  EXPECT_EQ(x.shards[3].offsets, (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(x.shards[4].offsets, (std::vector<int64_t>{8, 0}));
  // w1: f32[32,64] columns split by model: device d holds columns 16*(d%4)...
  const ArrayInfo& w1 = sig.inputs[1];
  EXPECT_EQ(w1.shard_shape.ToString(false), "f32[32,16]");
  for (int d = 0; d < 8; ++d) EXPECT_EQ(w1.shards[d].offsets, (std::vector<int64_t>{0, 16 * (d % 4)})) << "device " << d;
  // w2: f32[64,32] rows split by model.
  for (int d = 0; d < 8; ++d) EXPECT_EQ(sig.inputs[2].shards[d].offsets, (std::vector<int64_t>{16 * (d % 4), 0})) << "device " << d;
}

TEST(Artifact, UnevenShardsArePadded) {
  auto m = testing::ParseOrDie("HloModule m\nENTRY e {\n  ROOT p = f32[7,3] parameter(0), sharding={devices=[4,1]<=[4]}\n}");
  Signature sig = ShardedSignature(*m, Mesh::Linear(4));
  EXPECT_EQ(sig.inputs[0].shard_shape.ToString(false), "f32[2,3]") << "ceil(7/4)";
  EXPECT_EQ(sig.inputs[0].shards[3].offsets, (std::vector<int64_t>{6, 0}));
}

TEST(Artifact, SignatureOfATupleResult) {
  auto m = ParseHloFile(testing::TestdataPath("reductions.hlo"));
  ASSERT_TRUE(m.ok());
  Signature sig = ShardedSignature(**m, Mesh::Linear(1));
  ASSERT_EQ(sig.inputs.size(), 1u);
  EXPECT_EQ(sig.inputs[0].shape.ToString(), "f32[3,5,7]");
  ASSERT_EQ(sig.outputs.size(), 6u);
  EXPECT_EQ(sig.outputs[3].shape.ToString(false), "s32[3,7]");  // argmax
  EXPECT_EQ(sig.outputs[3].shards[0].offsets, (std::vector<int64_t>{0, 0}));
}

}  // namespace
}  // namespace pjit

namespace pjit {
namespace {

using ::testing::HasSubstr;

// The mlp compiled for a data=2 x model=2 mesh, as artifact bytes, signed with `key` (a PEM
// file under testdata/signing) unless empty.
std::string MlpArtifact(const std::string& key) {
  CompileOptions options;
  options.input = "mlp.hlo";
  options.mesh = "data=2,model=2";
  options.in_shardings = {"0=data,_", "1=_,model", "2=model"};
  auto compiled = CompileText(*ReadFileToString(testing::TestdataPath("mlp.hlo")), options);
  EXPECT_TRUE(compiled.ok());
  auto plan = LowerToThunks(*compiled->device);
  EXPECT_TRUE(plan.ok());
  ArtifactContents c;
  c.producer = {"pjit-compile", "test", {"--mesh=data=2,model=2"}, "mlp.hlo", 42};
  c.mesh = compiled->mesh;
  c.program = compiled->global.get();
  c.signature = ShardedSignature(*compiled->global, c.mesh);
  c.device_programs.push_back({{0, 1, 2, 3}, compiled->device.get()});
  c.thunks = *plan;
  if (!key.empty()) c.signing_key = testing::TestdataPath("signing/" + key);
  auto bytes = SerializeArtifact(c);
  EXPECT_TRUE(bytes.ok()) << bytes.status().message();
  return bytes.ok() ? *bytes : "";
}

TEST(ArtifactSigning, OnlyTheSignersKeyVerifies) {
  auto signed_reader = ArtifactReader::FromBytes(MlpArtifact("key.pem"), "s.pjit");
  ASSERT_TRUE(signed_reader.ok()) << signed_reader.status().message();
  EXPECT_TRUE(VerifyArtifact(**signed_reader, testing::TestdataPath("signing/key.pub.pem")).ok());
  EXPECT_TRUE(VerifyArtifact(**signed_reader, testing::TestdataPath("signing/key.pem")).ok());  // its public half
  Status other = VerifyArtifact(**signed_reader, testing::TestdataPath("signing/other.pub.pem"));
  EXPECT_THAT(other.message(), HasSubstr("s.pjit: signed by key "));
  Status not_a_key = VerifyArtifact(**signed_reader, testing::TestdataPath("mlp.hlo"));
  EXPECT_THAT(not_a_key.message(), HasSubstr("mlp.hlo: not a PEM public or private key"));
  auto unsigned_reader = ArtifactReader::FromBytes(MlpArtifact(""), "u.pjit");
  ASSERT_TRUE(unsigned_reader.ok());
  EXPECT_THAT(VerifyArtifact(**unsigned_reader, testing::TestdataPath("signing/key.pub.pem")).message(),
              HasSubstr("u.pjit: not signed (compile it with pjit-compile --sign)"));
  // Signing needs the private key.
  auto signed_with_public = SignArtifact((*signed_reader)->signed_content(), testing::TestdataPath("signing/key.pub.pem"));
  EXPECT_THAT(signed_with_public.status().message(), HasSubstr("key.pub.pem: not a PEM private key"));
}

// A change to any byte the signature covers fails verification: a constant in the blob area
// (its XXH3 unchecked, as a forger would have recomputed it) and the producer (which no
// content hash covers); and the digest moves with every part of the content.
TEST(ArtifactSigning, EveryPartOfTheContentIsCovered) {
  std::string bytes = MlpArtifact("key.pem");
  auto reader = ArtifactReader::FromBytes(bytes, "s.pjit");
  ASSERT_TRUE(reader.ok());
  ASSERT_FALSE((*reader)->blobs().empty());
  std::string blob_tampered = bytes;
  blob_tampered[bytes.size() - (*reader)->blob_bytes(0).size() + 1] ^= 1;
  ArtifactReaderOptions unchecked;
  unchecked.check_hashes = false;
  auto forged = ArtifactReader::FromBytes(blob_tampered, "f.pjit", unchecked);
  ASSERT_TRUE(forged.ok()) << forged.status().message();
  EXPECT_THAT(VerifyArtifact(**forged, testing::TestdataPath("signing/key.pub.pem")).message(),
              HasSubstr("f.pjit: the signature does not match the content"));
  std::string producer_tampered = bytes;
  size_t at = producer_tampered.find("--mesh=data=2,model=2");
  ASSERT_NE(at, std::string::npos);
  producer_tampered[at + 7] = 'D';
  auto renamed = ArtifactReader::FromBytes(producer_tampered, "p.pjit");
  ASSERT_TRUE(renamed.ok()) << renamed.status().message();
  EXPECT_THAT(VerifyArtifact(**renamed, testing::TestdataPath("signing/key.pub.pem")).message(),
              HasSubstr("the signature does not match"));

  const SignedContent content = (*reader)->signed_content();
  const std::string digest = SigningDigest(content);
  std::vector<std::string> copies;
  for (size_t s = 0; s < content.sections.size(); ++s) {
    SignedContent changed = content;
    copies.emplace_back(content.sections[s].second);
    copies.back()[copies.back().size() / 2] ^= 1;
    changed.sections[s].second = copies.back();
    EXPECT_NE(SigningDigest(changed), digest) << "section " << s;
  }
  SignedContent version = content;
  version.format_minor += 1;
  EXPECT_NE(SigningDigest(version), digest);
  Producer other_source = *content.producer;
  other_source.source_hash += 1;
  SignedContent source = content;
  source.producer = &other_source;
  EXPECT_NE(SigningDigest(source), digest);
  SignedContent shorter = content;
  shorter.blob_area.remove_suffix(1);
  EXPECT_NE(SigningDigest(shorter), digest);
}

}  // namespace
}  // namespace pjit
