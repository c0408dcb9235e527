// End-to-end: the tools as a user runs them, checked against JAX's outputs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "format/file_util.h"
#include "format/npy.h"
#include "tests/test_util.h"
#include "tests/tool_runner.h"

namespace pjit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Result;
using testing::Tool;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pjit_cli_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(CliTest, CompileRunInspectShardedMlp) {
  std::string hlo = testing::TestdataPath("mlp_sharded.hlo");
  std::string compiled = (dir_ / "mlp.pjit").string();
  Result c = Tool("pjit-compile " + hlo + " -o " + compiled);
  ASSERT_EQ(c.exit_code, 0) << c.output;
  std::string inputs;
  for (int i = 0; i < 3; ++i) inputs += " --input " + std::to_string(i) + "=" + testing::TestdataPath("mlp_sharded.in" + std::to_string(i) + ".npy");
  Result r = Tool("pjit-run " + compiled + inputs + " --output-dir " + (dir_ / "out").string());  // the cpu platform
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto got = ReadNpy((dir_ / "out" / "out0.npy").string());
  auto want = ReadNpy(testing::TestdataPath("mlp_sharded.out0.npy"));
  ASSERT_TRUE(got.ok() && want.ok());
  EXPECT_TRUE(testing::AllClose(*got, *want, 2e-5, 2e-5));
  Result i = Tool("pjit-inspect " + compiled);
  ASSERT_EQ(i.exit_code, 0) << i.output;
  EXPECT_THAT(i.output, HasSubstr("Arg_0.1: f32[16,32]  (no PartitionSpec)  {devices=[2,1,4]<=[8] last_tile_dim_replicate}"));
}

TEST_F(CliTest, StdoutArtifactEqualsFileArtifact) {
  std::string hlo = testing::TestdataPath("attention.hlo");
  ASSERT_EQ(Tool("pjit-compile " + hlo + " -o " + (dir_ / "a.pjit").string()).exit_code, 0);
  ASSERT_EQ(std::system((std::string(PJIT_TOOLS_DIR) + "/pjit-compile " + hlo + " -o - > " + (dir_ / "b.pjit").string()).c_str()), 0);
  EXPECT_EQ(*ReadFileToString((dir_ / "a.pjit").string()), *ReadFileToString((dir_ / "b.pjit").string()));
}

TEST_F(CliTest, InspectJsonOfAnArtifact) {
  std::string pjit = (dir_ / "m.pjit").string();
  ASSERT_EQ(Tool("pjit-compile " + testing::TestdataPath("mlp.hlo") + " -o " + pjit).exit_code, 0);
  Result j = Tool("pjit-inspect --json " + pjit);
  ASSERT_EQ(j.exit_code, 0) << j.output;
  EXPECT_THAT(j.output, HasSubstr(R"("format":"1.2")"));
  EXPECT_THAT(j.output, HasSubstr(R"("key_signature":null)"));
  EXPECT_THAT(j.output, HasSubstr(R"("mesh":{"axes":[{"name":"x","size":1}],"device_ids":[0]})"));
  EXPECT_THAT(j.output, HasSubstr(R"j({"index":1,"name":"Arg_1.2","shape":"f32[32,64]","partition_spec":"P()","sharding":"{replicated}","shard_shape":"f32[32,64]"})j"));
  EXPECT_THAT(j.output, HasSubstr(R"({"name":"program","bytes":)"));
  Result t = Tool("pjit-inspect " + pjit);
  EXPECT_THAT(t.output, HasSubstr("mesh: x=1, 1 device:\n  0\n"));
  EXPECT_THAT(t.output, HasSubstr("  1 Arg_1.2: f32[32,64]  P()  {replicated}  per device f32[32,64]"));
}

TEST_F(CliTest, DamagedArtifactIsOneLineNamingTheSection) {
  std::string pjit = (dir_ / "m.pjit").string();
  ASSERT_EQ(Tool("pjit-compile " + testing::TestdataPath("mlp.hlo") + " -o " + pjit).exit_code, 0);
  std::string bytes = *ReadFileToString(pjit);
  bytes[bytes.size() / 3] ^= 0x55;
  ASSERT_TRUE(WriteFileAtomically(pjit, bytes).ok());
  Result r = Tool("pjit-inspect " + pjit);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, ::testing::MatchesRegex("pjit-inspect: error: .*m\\.pjit: (section '[a-z_]+'|header).*\n"));
}

// Megatron MLP from the command line on an unannotated module: the hidden layer is split
// both ways, the result only by rows, and each device holds a quarter or half of a weight.
TEST_F(CliTest, MeshAndShardingFlags) {
  std::string pjit = (dir_ / "m.pjit").string();
  Result c = Tool("pjit-compile " + testing::TestdataPath("mlp.hlo") + " -o " + pjit +
                  " --mesh data=2,model=4 --in-sharding 0=data,_ --in-sharding Arg_1.2=_,model --out-sharding 0=data,model");
  ASSERT_EQ(c.exit_code, 0) << c.output;
  Result t = Tool("pjit-inspect " + pjit);
  EXPECT_THAT(t.output, HasSubstr("mesh: data=2,model=4, 8 devices:\n  0 1 2 3\n  4 5 6 7\n"));
  EXPECT_THAT(t.output, HasSubstr("  0 Arg_0.1: f32[8,32]  P(data)  {devices=[2,1,4]<=[8] last_tile_dim_replicate}  per device f32[4,32]"));
  EXPECT_THAT(t.output, HasSubstr("  1 Arg_1.2: f32[32,64]  P(_,model)  {devices=[1,4,2]<=[2,4]T(1,0) last_tile_dim_replicate}  per device f32[32,16]"));
  // The bias is only reached backward through its broadcast: split by model like the columns.
  EXPECT_THAT(t.output, HasSubstr("  2 Arg_2.3: f32[64]  P(model)  {devices=[4,2]<=[2,4]T(1,0) last_tile_dim_replicate}  per device f32[16]"));
  EXPECT_THAT(t.output, HasSubstr("f32[8,64]  P(data,model)  {devices=[2,4]<=[8]}  per device f32[4,16]"));
  EXPECT_THAT(t.output, HasSubstr("--in-sharding=Arg_1.2=_,model"));
}

// The issue's "done when": the per-device program of a Megatron MLP, printed as HLO text that
// parses and verifies again, with shard shapes and the one all-reduce over the model axis.
TEST_F(CliTest, InspectPrintsThePerDeviceProgram) {
  fs::path hlo = dir_ / "mlp2.hlo";
  ASSERT_TRUE(WriteFileAtomically(hlo.string(), "HloModule mlp2\nENTRY e {\n  x = f32[8,16] parameter(0)\n  w1 = f32[16,32] parameter(1)\n"
                                                "  w2 = f32[32,4] parameter(2)\n"
                                                "  h = f32[8,32] dot(x, w1), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
                                                "  ROOT y = f32[8,4] dot(h, w2), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}\n").ok());
  std::string pjit = (dir_ / "m.pjit").string();
  Result c = Tool("pjit-compile " + hlo.string() + " -o " + pjit +
                  " --mesh data=2,model=2 --in-sharding 0=data,_ --in-sharding 1=_,model --in-sharding 2=model,_ --out-sharding 0=data,_");
  ASSERT_EQ(c.exit_code, 0) << c.output;
  Result p = Tool("pjit-inspect --program --device 3 " + pjit);
  ASSERT_EQ(p.exit_code, 0) << p.output;
  EXPECT_THAT(p.output, HasSubstr("x = f32[4,16] parameter(0)"));
  EXPECT_THAT(p.output, HasSubstr("w1 = f32[16,16] parameter(1)"));
  EXPECT_THAT(p.output, HasSubstr("all-reduce("));
  EXPECT_THAT(p.output, HasSubstr("replica_groups={{0,1},{2,3}}"));
  fs::path printed = dir_ / "device.hlo";
  ASSERT_TRUE(WriteFileAtomically(printed.string(), p.output).ok());
  Result again = Tool("pjit-compile " + printed.string() + " -o " + (dir_ / "again.pjit").string());
  EXPECT_EQ(again.exit_code, 0) << again.output;
  Result g = Tool("pjit-inspect --global " + pjit);
  EXPECT_THAT(g.output, HasSubstr("h = f32[8,32] dot(x, w1)"));
  EXPECT_THAT(g.output, HasSubstr("sharding={devices=[2,2]<=[4]}"));
  Result bad = Tool("pjit-inspect --program --device 4 " + pjit);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("device_programs: no program for device 4"));
  EXPECT_EQ(Tool("pjit-inspect --device 1 " + pjit).exit_code, 2);
}

// The views from the command line: one view at a time, flags that need another flag, the
// colour switch, and a damaged artifact giving the reader's one-line error in every view.
TEST_F(CliTest, InspectViewsFromTheCommandLine) {
  std::string pjit = (dir_ / "m.pjit").string();
  ASSERT_EQ(Tool("pjit-compile " + testing::TestdataPath("mlp.hlo") + " -o " + pjit +
                 " --mesh data=2,model=2 --in-sharding 0=data,_ --in-sharding 1=_,model --out-sharding 0=data,_").exit_code, 0);
  Result grid = Tool("pjit-inspect --shardings " + pjit + " add.9 --color never");
  ASSERT_EQ(grid.exit_code, 0) << grid.output;
  EXPECT_THAT(grid.output, HasSubstr("│  0  │  1  │"));
  EXPECT_THAT(grid.output, ::testing::Not(HasSubstr("\x1b[")));
  EXPECT_THAT(Tool("pjit-inspect --shardings " + pjit + " --color always").output, HasSubstr("\x1b[38;5;16;48;5;"));
  EXPECT_THAT(Tool("pjit-inspect --shardings --ascii " + pjit).output, HasSubstr("+-----+"));
  Result c = Tool("pjit-inspect --collectives --link-bandwidth 100Gb/s --link-latency 1us " + pjit);
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_THAT(c.output, HasSubstr("link model: 12.5 GB/s per device, 1.00 us per step"));
  EXPECT_THAT(Tool("pjit-inspect --explain add.9 " + pjit).output, HasSubstr("given on the command line: --in-sharding 1=_,model"));
  EXPECT_THAT(Tool("pjit-inspect --memory --all " + pjit).output, HasSubstr("live at the peak:"));
  Result two = Tool("pjit-inspect --memory --collectives " + pjit);
  EXPECT_EQ(two.exit_code, 2);
  EXPECT_THAT(two.output, HasSubstr("choose one view"));
  EXPECT_EQ(Tool("pjit-inspect " + pjit + " add.9").exit_code, 2);
  EXPECT_EQ(Tool("pjit-inspect --extract hlo " + pjit).exit_code, 2);
  EXPECT_EQ(Tool("pjit-inspect --all " + pjit).exit_code, 2);
  Result units = Tool("pjit-inspect --collectives --link-latency 3parsecs " + pjit);
  EXPECT_EQ(units.exit_code, 1);
  EXPECT_THAT(units.output, HasSubstr("--link-latency '3parsecs': unknown unit"));
  std::string bytes = *ReadFileToString(pjit);
  bytes[bytes.size() / 2] ^= 0x55;
  ASSERT_TRUE(WriteFileAtomically(pjit, bytes).ok());
  for (const char* view : {"--shardings", "--collectives", "--memory", "--binaries", "--explain add.9"}) {
    Result r = Tool("pjit-inspect " + std::string(view) + " " + pjit);
    EXPECT_EQ(r.exit_code, 1) << view;
    EXPECT_THAT(r.output, ::testing::MatchesRegex("pjit-inspect: error: .*m\\.pjit: (section '[a-z_]+'|header).*\n")) << view;
  }
}

TEST_F(CliTest, CompileTimesItsPassesAndStaysQuiet) {
  std::string pjit = (dir_ / "m.pjit").string();
  Result r = Tool("pjit-compile " + testing::TestdataPath("softmax.hlo") + " -o " + pjit + " --time-passes --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* pass : {"parse and verify", "sharding propagation", "spmd partitioning", "loop fusion",
                           "thunk lowering and buffer assignment", "x86-64 code generation", "write artifact", "total"})
    EXPECT_THAT(r.output, ::testing::MatchesRegex("(.|\n)*pjit-compile: +[0-9.]+ s  " + std::string(pass) + "\n(.|\n)*")) << pass;
  Result bad = Tool("pjit-compile " + testing::TestdataPath("softmax.hlo") + " -o " + pjit + " --cpu pentium-9000");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("--cpu 'pentium-9000': not a CPU LLVM knows"));
}

// --memory-limit: a plan over it fails before anything is written, naming the peak (from the
// product on, the inputs, the product and the pinned sums: 512 KiB + 1 MiB + 2 MiB + 2 KiB) and
// its largest buffers.
TEST_F(CliTest, CompileFailsOverTheMemoryLimitNamingThePeak) {
  fs::path hlo = dir_ / "big.hlo";
  ASSERT_TRUE(WriteFileAtomically(hlo.string(), R"(HloModule m
add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT c = f32[] add(a, b)
}
ENTRY e {
  x = f32[512,256] parameter(0)
  w = f32[256,1024] parameter(1)
  h = f32[512,1024] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  z = f32[] constant(0)
  ROOT s = f32[512] reduce(h, z), dimensions={1}, to_apply=add
}
)").ok());
  fs::path pjit = dir_ / "big.pjit";
  Result over = Tool("pjit-compile " + hlo.string() + " -o " + pjit.string() + " --memory-limit 3MiB");
  EXPECT_EQ(over.exit_code, 1) << over.output;
  EXPECT_THAT(over.output, HasSubstr("over --memory-limit 3.00 MiB: peak 3.50 MiB live at h; largest live there: "
                                     "h f32[512,1024] 2.00 MiB, w f32[256,1024] 1.00 MiB, x f32[512,256] 512 KiB"));
  EXPECT_FALSE(fs::exists(pjit)) << "nothing written";
  Result fits = Tool("pjit-compile " + hlo.string() + " -o " + pjit.string() + " --memory-limit 4MiB");
  EXPECT_EQ(fits.exit_code, 0) << fits.output;
  EXPECT_TRUE(fs::exists(pjit));
  Result bad = Tool("pjit-compile " + hlo.string() + " -o " + pjit.string() + " --memory-limit 4XB");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.output, HasSubstr("--memory-limit '4XB': unknown unit 'XB'"));
}

TEST_F(CliTest, MeshFromTheDumpsShardyAttribute) {
  fs::path hlo = dir_ / "sdy.hlo";
  ASSERT_TRUE(WriteFileAtomically(hlo.string(), "HloModule m, frontend_attributes={xla.sdy.meshes={mesh = #sdy.mesh<[\"data\"=2, \"model\"=4]>}}\n"
                                                "ENTRY e {\n  p = f32[8,16] parameter(0)\n  ROOT n = f32[8,16] negate(p)\n}\n").ok());
  std::string pjit = (dir_ / "m.pjit").string();
  Result c = Tool("pjit-compile " + hlo.string() + " -o " + pjit + " --in-sharding 0=model,data");
  ASSERT_EQ(c.exit_code, 0) << c.output;
  Result t = Tool("pjit-inspect " + pjit);
  EXPECT_THAT(t.output, HasSubstr("mesh: data=2,model=4"));
  EXPECT_THAT(t.output, HasSubstr("n: f32[8,16]  P(model,data)  {devices=[4,2]<=[2,4]T(1,0)}  per device f32[2,8]"));
}

TEST_F(CliTest, ShardingFlagErrorsAndWarnings) {
  std::string hlo = testing::TestdataPath("mlp_sharded.hlo");
  std::string out = " -o " + (dir_ / "m.pjit").string();
  Result r = Tool("pjit-compile " + hlo + out + " --mesh data=2,model=4 --in-sharding 0=batch,_");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("--in-sharding 0=batch,_: PartitionSpec 'batch,_': the mesh (data=2,model=4) has no axis 'batch'"));
  r = Tool("pjit-compile " + hlo + out + " --mesh data=2,model=4 --in-sharding 7=data");
  EXPECT_THAT(r.output, HasSubstr("has no parameter '7' (it takes 3)"));
  r = Tool("pjit-compile " + hlo + out + " --mesh data=2,model=4 --in-sharding 0=model,_");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("warning: " + hlo + ":11:3: Arg_0.1: --in-sharding 0=model,_ gives {devices=[4,1,2]<=[2,4]T(1,0) last_tile_dim_replicate}, overriding the annotation {devices=[2,1,4]<=[8] last_tile_dim_replicate}"));
  r = Tool("pjit-compile " + hlo + out + " --mesh data=3");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("names device 3 of 3"));
}

// Compiles a testdata module into dir_ and returns the artifact's path.
std::string CompileTestdata(const fs::path& dir, const std::string& name, const std::string& flags = "") {
  std::string out = (dir / (name + ".pjit")).string();
  Result c = Tool("pjit-compile " + testing::TestdataPath(name + ".hlo") + " -o " + out + flags);
  EXPECT_EQ(c.exit_code, 0) << c.output;
  return out;
}

TEST_F(CliTest, InputsByNameLiteralAndExpectedOutput) {
  std::string pjit = CompileTestdata(dir_, "softmax", " --mesh x=2 --in-sharding 0=x,_");
  std::string run = "pjit-run " + pjit + " --platform interp -o " + dir_.string();
  Result r = Tool(run + " --input Arg_0.1=" + testing::TestdataPath("softmax.in0.npy") + " --expected-output 0=" +
                  testing::TestdataPath("softmax.out0.npy"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("matches the expected output"));
  // A constant input makes every row uniform: softmax gives 1/40 everywhere.
  r = Tool(run + " --input 6x40xf32=3 --expected-output 6x40xf32=0.025");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = Tool(run + " --input 6x40xf32=3 --expected-output 6x40xf32=0.5");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("MISMATCH: 240 of 240 elements differ"));
}

TEST_F(CliTest, KeepShardedWritesWhatEachDeviceHolds) {
  std::string pjit = CompileTestdata(dir_, "softmax", " --mesh x=2 --in-sharding 0=x,_ --out-sharding 0=x,_");
  Result r = Tool("pjit-run " + pjit + " --platform interp --keep-sharded --input " + testing::TestdataPath("softmax.in0.npy") +
                  " -o " + dir_.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto want = ReadNpy(testing::TestdataPath("softmax.out0.npy"));
  ASSERT_TRUE(want.ok());
  for (int d = 0; d < 2; ++d) {
    auto got = ReadNpy((dir_ / ("out0.device" + std::to_string(d) + ".npy")).string());
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->shape().dims, (std::vector<int64_t>{3, 40}));
    for (int64_t i = 0; i < got->element_count(); ++i)
      EXPECT_FLOAT_EQ(got->Get<float>(i), want->Get<float>(d * 120 + i)) << "device " << d << " element " << i;
  }
}

TEST_F(CliTest, BatchManifestRunsEveryJob) {
  std::string pjit = CompileTestdata(dir_, "softmax");
  fs::path manifest = dir_ / "jobs.txt";
  FILE* f = fopen(manifest.c_str(), "w");
  fprintf(f, "# two jobs\n%s %s\n\n%s 0=6x40xf32=1\n", (dir_ / "a").c_str(), testing::TestdataPath("softmax.in0.npy").c_str(),
          (dir_ / "b").c_str());
  fclose(f);
  Result r = Tool("pjit-run " + pjit + " --platform interp --batch " + manifest.string() + " --repeat 2 --benchmark");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("job 2/2"));
  EXPECT_THAT(r.output, HasSubstr("benchmark: 4 runs on interp (1 devices)"));
  EXPECT_THAT(r.output, HasSubstr("transfers per job (median of 2): inputs to the devices "));
  auto a = ReadNpy((dir_ / "a" / "out0.npy").string());
  auto want = ReadNpy(testing::TestdataPath("softmax.out0.npy"));
  ASSERT_TRUE(a.ok() && want.ok());
  EXPECT_TRUE(testing::AllClose(*a, *want, 1e-5, 1e-6));
  EXPECT_TRUE(fs::exists(dir_ / "b" / "out0.npy"));
}

TEST_F(CliTest, BadInputGivesOneLocatedLineAndNoOutput) {
  fs::path bad = dir_ / "bad.hlo";
  FILE* f = fopen(bad.c_str(), "w");
  fputs("HloModule m\nENTRY e {\n  ROOT p = f32[2] frob(x)\n}\n", f);
  fclose(f);
  Result c = Tool("pjit-compile " + bad.string() + " -o " + (dir_ / "out.pjit").string());
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_EQ(c.output, "pjit-compile: error: " + bad.string() + ":3:19: unsupported: opcode 'frob'\n");
  EXPECT_FALSE(fs::exists(dir_ / "out.pjit"));
}

TEST_F(CliTest, RunErrorsNameTheFlagAndTheExpectedShape) {
  std::string pjit = CompileTestdata(dir_, "softmax");
  std::string run = "pjit-run " + pjit + " --platform interp -o " + dir_.string();
  struct Case {
    std::string flags, message;
  };
  std::vector<Case> cases = {
      {"", "no --input for input 0 (Arg_0.1): f32[6,40]"},
      {" --input 0=" + testing::TestdataPath("mlp.in0.npy"), "mlp.in0.npy is f32[8,32] but input 0 (Arg_0.1) is f32[6,40]"},
      {" --input 3=@random", "--input 3=@random: no array '3' (there are 1: Arg_0.1)"},
      {" --input @random --input @random", "--input @random: every one of the 1 arrays is bound already"},
      {" --input 0=@random --input Arg_0.1=@random", "input 0 (Arg_0.1) is given twice"},
      {" --input 6x40xs8=300", "'6x40xs8=300': 300 is not a s8 value"},
      {" --input 6x40xf32=1,2", "2 values for 240 elements"},
      {" --input 0=missing.npy", "--input 0=missing.npy: "},
      {" --input @random --devices 2", "--devices 2: " + pjit + " is compiled for the mesh x=1 of 1 devices"},
      {" --input @random --repeat 0", "--repeat 0: must be at least 1"},
      {" --input @random --expected-output 1=@random", "--expected-output 1=@random: no array '1'"},
      {" --batch " + (dir_ / "none.txt").string(), "--batch takes its inputs and output directories from the manifest"},
  };
  for (const Case& c : cases) {
    Result r = Tool(run + c.flags);
    EXPECT_EQ(r.exit_code, 1) << c.flags;
    EXPECT_THAT(r.output, HasSubstr(c.message)) << c.flags;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  }
  fs::path manifest = dir_ / "jobs.txt";
  FILE* f = fopen(manifest.c_str(), "w");
  fprintf(f, "%s @random\n%s 0=4x40xf32=1\n", (dir_ / "a").c_str(), (dir_ / "b").c_str());
  fclose(f);
  Result batch = Tool("pjit-run " + pjit + " --platform interp --batch " + manifest.string());
  EXPECT_EQ(batch.exit_code, 1);
  EXPECT_THAT(batch.output, HasSubstr(manifest.string() + ":2: --input 0=4x40xf32=1: 4x40xf32=1 is f32[4,40] but input 0 (Arg_0.1) is f32[6,40]"));
  EXPECT_THAT(batch.output, Not(HasSubstr("job 1/2")));  // nothing ran
  EXPECT_FALSE(fs::exists(dir_ / "a"));
  Result no_manifest = Tool("pjit-run " + pjit + " --batch " + (dir_ / "none.txt").string());
  EXPECT_THAT(no_manifest.output, HasSubstr("none.txt"));
  EXPECT_EQ(no_manifest.exit_code, 1);
  Result text = Tool("pjit-run " + testing::TestdataPath("softmax.hlo") + " -o " + dir_.string());
  EXPECT_THAT(text.output, HasSubstr("not a .pjit artifact (compile it with pjit-compile first)"));
  Result platform = Tool("pjit-run " + pjit + " --input @random -o " + dir_.string() + " --platform tpu");
  EXPECT_EQ(platform.exit_code, 1);
  EXPECT_THAT(platform.output, HasSubstr("--platform tpu: no plugin libpjit_plugin_tpu.so in "));
  // Every directory searched is named, the one beside the tool among them.
  EXPECT_THAT(platform.output, HasSubstr(fs::path(PJIT_TOOLS_DIR).parent_path().string() + "/lib/pjit/plugins"));
  EXPECT_THAT(platform.output, HasSubstr("platforms found: "));
  EXPECT_THAT(platform.output, HasSubstr("interp"));
}

TEST_F(CliTest, UsageErrors) {
  EXPECT_EQ(Tool("pjit-compile").exit_code, 2);
  EXPECT_EQ(Tool("pjit-run").exit_code, 2);
  EXPECT_EQ(Tool("pjit-run x.pjit --repeat many").exit_code, 2);
  EXPECT_EQ(Tool("pjit-inspect --help").exit_code, 0);
}

}  // namespace
}  // namespace pjit
