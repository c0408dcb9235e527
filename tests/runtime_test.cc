// The runtime end to end: artifacts compiled from testdata run on the cpu and interp platforms
// through the plugin ABI and match JAX's outputs; a collective stress test checks every kind of
// collective thunk against the interpreter's collectives; the loader's ABI rules.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "compile/pipeline.h"
#include "compile/thunk_lowering.h"
#include "format/artifact_reader.h"
#include "format/artifact_writer.h"
#include "format/file_util.h"
#include "format/npy.h"
#include "run/interpreter/evaluator.h"
#include "run/plugins/cpu/cpu_executable.h"
#include "run/plugins/cpu/rendezvous.h"
#include "run/plugins/thunk_plan.h"
#include "run/session.h"
#include "tests/mesh_configs.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pjit_runtime_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

class TestdataOnPlatforms : public RuntimeTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(TestdataOnPlatforms, MatchJaxOnEveryMesh) {
  const std::string name = GetParam();
  auto module = testing::ParseOrDie(*ReadFileToString(testing::TestdataPath(name + ".hlo")));
  ASSERT_NE(module, nullptr);
  std::vector<Literal> inputs = testing::ReadTestdataInputs(name, module->entry->parameters.size());
  ASSERT_EQ(inputs.size(), module->entry->parameters.size());
  std::vector<testing::MeshConfig> configs = {{"", {}}, {"x=2", {"x"}}, {"data=2,model=2", {"data", "model"}}, {"x=3", {"x"}}};
  for (const testing::MeshConfig& c : configs) {
    CompileOptions options;
    options.input = testing::TestdataPath(name + ".hlo");
    options.output = (dir_ / (name + ".pjit")).string();
    testing::SetMeshAndShardings(*module, c, options);
    auto report = Compile(options);
    ASSERT_TRUE(report.ok()) << c.mesh << ": " << report.status().message();
    for (const char* platform : {"cpu", "interp"}) {
      if (std::string(platform) == "interp" && c.mesh != "data=2,model=2") continue;  // the oracle, checked once
      SessionOptions so;
      so.platform = platform;
      auto session = Session::Open(options.output, so);
      ASSERT_TRUE(session.ok()) << session.status().message();
      auto outputs = (*session)->Run(inputs);
      ASSERT_TRUE(outputs.ok()) << platform << " " << c.mesh << ": " << outputs.status().message();
      for (size_t o = 0; o < outputs->size(); ++o) {
        auto want = ReadNpy(testing::TestdataPath(name + ".out" + std::to_string(o) + ".npy"));
        ASSERT_TRUE(want.ok()) << want.status().message();
        DType t = want->shape().dtype;
        bool low = t == DType::kF16 || t == DType::kBF16;
        EXPECT_TRUE(testing::AllClose((*outputs)[o], *want, low ? 2e-2 : 1e-4, low ? 2e-2 : 1e-5))
            << platform << ", mesh " << c.mesh << ", output " << o;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Testdata, TestdataOnPlatforms, ::testing::ValuesIn(testing::TestdataModules()));

// Writes a one-program artifact for `module` on `mesh` (no partitioning: the module is the
// device program) and returns its path.
// `unpinned`: the plan without its buffer table, as artifacts written before parameters and
// results were pinned read, so the platform copies them through the arena.
std::string WriteSpmdArtifact(const Module& module, const Mesh& mesh, const fs::path& path, bool unpinned = false) {
  ArtifactContents contents;
  contents.mesh = mesh;
  contents.program = &module;
  contents.signature = ShardedSignature(module, mesh);
  contents.device_programs.push_back({mesh.device_ids, &module});
  auto plan = LowerToThunks(module);
  EXPECT_TRUE(plan.ok()) << plan.status().message();
  if (plan.ok()) contents.thunks = *plan;
  if (unpinned)
    for (ThunkSequence& s : contents.thunks.sequences) s.buffers.clear();
  EXPECT_TRUE(WriteArtifact(path.string(), contents).ok());
  return path.string();
}

// Every collective thunk kind and reduction, over replica groups, on 16 devices whose values
// depend on their partition id.
constexpr const char* kCollectives = R"(HloModule collectives, num_partitions=16
add { a = f32[] parameter(0)  b = f32[] parameter(1)  ROOT r = f32[] add(a, b) }
max { a = f32[] parameter(0)  b = f32[] parameter(1)  ROOT r = f32[] maximum(a, b) }
min { a = s32[] parameter(0)  b = s32[] parameter(1)  ROOT r = s32[] minimum(a, b) }
mul { a = s32[] parameter(0)  b = s32[] parameter(1)  ROOT r = s32[] multiply(a, b) }
ENTRY e {
  x = f32[8,4] parameter(0)
  id = u32[] partition-id()
  idf = f32[] convert(id)
  one = f32[] constant(1)
  scale = f32[] add(idf, one)
  s = f32[8,4] broadcast(scale), dimensions={}
  v = f32[8,4] multiply(x, s)
  ids = s32[] convert(id)
  three = s32[] constant(3)
  k = s32[] remainder(ids, three)
  kb = s32[8,4] broadcast(k), dimensions={}
  onei = s32[] constant(1)
  ob = s32[8,4] broadcast(onei), dimensions={}
  w = s32[8,4] add(kb, ob)
  sum = f32[8,4] all-reduce(v), channel_id=1, replica_groups={{0,1,2,3},{4,5,6,7},{8,9,10,11},{12,13,14,15}}, use_global_device_ids=true, to_apply=add
  most = f32[8,4] all-reduce(v), channel_id=2, replica_groups={}, use_global_device_ids=true, to_apply=max
  least = s32[8,4] all-reduce(w), channel_id=3, replica_groups={{0,2,4,6,8,10,12,14},{1,3,5,7,9,11,13,15}}, use_global_device_ids=true, to_apply=min
  prod = s32[8,4] all-reduce(w), channel_id=4, replica_groups={{0,1},{2,3},{4,5},{6,7},{8,9},{10,11},{12,13},{14,15}}, use_global_device_ids=true, to_apply=mul
  gathered = f32[8,16] all-gather(v), channel_id=5, replica_groups={{0,4,8,12},{1,5,9,13},{2,6,10,14},{3,7,11,15}}, dimensions={1}, use_global_device_ids=true
  scattered = f32[2,4] reduce-scatter(v), channel_id=6, replica_groups={{0,1,2,3},{4,5,6,7},{8,9,10,11},{12,13,14,15}}, dimensions={0}, use_global_device_ids=true, to_apply=add
  swapped = f32[8,4] all-to-all(v), channel_id=7, replica_groups={{0,1,2,3},{4,5,6,7},{8,9,10,11},{12,13,14,15}}, dimensions={0}
  shifted = f32[8,4] collective-permute(v), channel_id=8, source_target_pairs={{0,1},{1,2},{2,3},{3,4},{4,5},{5,6},{6,7},{7,8},{8,9},{9,10},{10,11},{11,12},{12,13},{13,14},{14,0}}
  ROOT t = (f32[8,4], f32[8,4], s32[8,4], s32[8,4], f32[8,16], f32[2,4], f32[8,4], f32[8,4]) tuple(sum, most, least, prod, gathered, scattered, swapped, shifted)
}
)";

TEST_F(RuntimeTest, CollectiveStressMatchesTheInterpreter) {
  auto module = testing::ParseOrDie(kCollectives);
  ASSERT_NE(module, nullptr);
  auto plan = LowerToThunks(*module);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  int collective_thunks = 0;
  for (const Thunk& t : plan->sequences[0].thunks) collective_thunks += std::holds_alternative<CollectiveThunk>(t);
  EXPECT_EQ(collective_thunks, 8);  // none fell back to a kernel
  std::string path = WriteSpmdArtifact(*module, Mesh::Linear(16), dir_ / "collectives.pjit");

  Literal x(Shape::Array(DType::kF32, {8, 4}));
  for (int64_t i = 0; i < x.element_count(); ++i) x.Set<float>(i, static_cast<float>(i % 7) - 2.5f);
  auto want = EvaluateSpmd(*module, std::vector<std::vector<Literal>>(16, std::vector<Literal>{x}));
  ASSERT_TRUE(want.ok()) << want.status().message();
  std::vector<std::vector<Literal>> want_leaves;  // [device][output]
  for (Literal& r : *want) want_leaves.push_back(FlattenResult(std::move(r)));

  auto session = Session::Open(path, SessionOptions{"cpu", 60'000});
  ASSERT_TRUE(session.ok()) << session.status().message();
  auto on_devices = (*session)->Upload({x});
  ASSERT_TRUE(on_devices.ok());
  for (int iteration = 0; iteration < 50; ++iteration) {
    auto results = (*session)->Execute(*on_devices);
    ASSERT_TRUE(results.ok()) << results.status().message();
    auto shards = (*session)->DownloadShards(*results);
    ASSERT_TRUE(shards.ok());
    for (size_t o = 0; o < shards->size(); ++o)
      for (size_t d = 0; d < 16; ++d)
        ASSERT_TRUE(testing::AllClose((*shards)[o][d], want_leaves[d][o], 1e-6, 1e-6))
            << "iteration " << iteration << ", output " << o << ", device " << d;
  }
}

// Every operand layout a gemm thunk takes (transposed or not, vectors, batches), and products
// big enough to be split over the device's cores (by rows, or by columns when there are more
// columns than rows, or whole products of a batch), against the interpreter; bfloat16 ones
// (f32 accumulation, rounded once) within a bfloat16 rounding of its double sums.
TEST_F(RuntimeTest, GemmThunksInEveryLayoutMatchTheInterpreter) {
  auto module = testing::ParseOrDie(R"(HloModule gemms
ENTRY e {
  a = f32[96,40] parameter(0)
  b = f32[40,72] parameter(1)
  at = f32[40,96] parameter(2)
  bt = f32[72,40] parameter(3)
  v = f32[40] parameter(4)
  x = f64[3,24,16] parameter(5)
  y = f64[3,16,8] parameter(6)
  big = f32[160,150] parameter(7)
  bigr = f32[150,140] parameter(8)
  x3 = f32[4,6,40] parameter(9)
  w3 = f32[40,2,9] parameter(10)
  wide = f32[40,600] parameter(11)
  widet = f32[600,40] parameter(12)
  xb = f32[8,64,64] parameter(13)
  yb = f32[8,64,48] parameter(14)
  ha = bf16[3,48,40] parameter(15)
  hb = bf16[3,72,40] parameter(16)
  nn = f32[96,72] dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  tn = f32[96,72] dot(at, b), lhs_contracting_dims={0}, rhs_contracting_dims={0}
  nt = f32[96,72] dot(a, bt), lhs_contracting_dims={1}, rhs_contracting_dims={1}
  tt = f32[96,72] dot(at, bt), lhs_contracting_dims={0}, rhs_contracting_dims={1}
  mv = f32[96] dot(a, v), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  vm = f32[72] dot(v, b), lhs_contracting_dims={0}, rhs_contracting_dims={0}
  bmm = f64[3,24,8] dot(x, y), lhs_batch_dims={0}, rhs_batch_dims={0}, lhs_contracting_dims={2}, rhs_contracting_dims={1}
  split = f32[160,140] dot(big, bigr), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  flat = f32[4,6,2,9] dot(x3, w3), lhs_contracting_dims={2}, rhs_contracting_dims={0}
  flatt = f32[2,9,4,6] dot(w3, x3), lhs_contracting_dims={0}, rhs_contracting_dims={2}
  cols = f32[96,600] dot(a, wide), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  colst = f32[96,600] dot(at, widet), lhs_contracting_dims={0}, rhs_contracting_dims={1}
  heads = f32[8,64,48] dot(xb, yb), lhs_batch_dims={0}, rhs_batch_dims={0}, lhs_contracting_dims={2}, rhs_contracting_dims={1}
  half = bf16[3,48,72] dot(ha, hb), lhs_batch_dims={0}, rhs_batch_dims={0}, lhs_contracting_dims={2}, rhs_contracting_dims={2}
  ROOT t = (f32[96,72], f32[96,72], f32[96,72], f32[96,72], f32[96], f32[72], f64[3,24,8], f32[160,140], f32[4,6,2,9], f32[2,9,4,6], f32[96,600], f32[96,600], f32[8,64,48], bf16[3,48,72]) tuple(nn, tn, nt, tt, mv, vm, bmm, split, flat, flatt, cols, colst, heads, half)
})");
  ASSERT_NE(module, nullptr);
  auto plan = LowerToThunks(*module);
  ASSERT_TRUE(plan.ok());
  int gemms = 0;
  for (const Thunk& t : plan->sequences[0].thunks) gemms += std::holds_alternative<GemmThunk>(t);
  EXPECT_EQ(gemms, 14);
  std::string path = WriteSpmdArtifact(*module, Mesh::Linear(1), dir_ / "gemms.pjit");
  std::vector<Literal> inputs = testing::RandomInputs(*module, 3);
  auto want = EvaluateModule(*module, inputs);
  ASSERT_TRUE(want.ok());
  std::vector<Literal> wants = FlattenResult(std::move(*want));
  auto session = Session::Open(path, SessionOptions{"cpu", 0});
  ASSERT_TRUE(session.ok()) << session.status().message();
  auto got = (*session)->Run(inputs);
  ASSERT_TRUE(got.ok()) << got.status().message();
  for (size_t o = 0; o < wants.size(); ++o) {
    double tolerance = wants[o].shape().dtype == DType::kBF16 ? 1e-2 : 1e-4;
    EXPECT_TRUE(testing::AllClose((*got)[o], wants[o], tolerance, tolerance / 10)) << "output " << o;
  }
}

// While loops and conditionals as thunks, compiled (native kernels, gemms) and run on the cpu
// platform against the interpreter on the unpartitioned module: a loop whose state is
// permuted every iteration (x takes a new value while y takes x's old one, so the copies back
// must save x first), a gemm and a three-way conditional inside it whose index goes out of
// range (-1: the last branch), a nested loop inside one branch, a pred conditional after it,
// zero iterations, and a partitioned mesh.
constexpr const char* kControlFlow = R"(HloModule control_flow
inner_cond {
  p = (s32[], f32[8,16]) parameter(0)
  k = s32[] get-tuple-element(p), index=0
  two = s32[] constant(2)
  ROOT lt = pred[] compare(k, two), direction=LT
}
inner_body {
  p = (s32[], f32[8,16]) parameter(0)
  k = s32[] get-tuple-element(p), index=0
  one = s32[] constant(1)
  k1 = s32[] add(k, one)
  v = f32[8,16] get-tuple-element(p), index=1
  s = f32[8,16] sine(v)
  ROOT t = (s32[], f32[8,16]) tuple(k1, s)
}
branch_scale {
  v = f32[8,16] parameter(0)
  h = f32[] constant(0.5)
  hb = f32[8,16] broadcast(h), dimensions={}
  ROOT m = f32[8,16] multiply(v, hb)
}
branch_loop {
  v = f32[8,16] parameter(0)
  zero = s32[] constant(0)
  init = (s32[], f32[8,16]) tuple(zero, v)
  w = (s32[], f32[8,16]) while(init), condition=inner_cond, body=inner_body
  ROOT r = f32[8,16] get-tuple-element(w), index=1
}
branch_identity {
  ROOT v = f32[8,16] parameter(0)
}
cond {
  p = (s32[], f32[8,16], f32[8,16], f32[16,16], s32[]) parameter(0)
  i = s32[] get-tuple-element(p), index=0
  n = s32[] get-tuple-element(p), index=4
  ROOT lt = pred[] compare(i, n), direction=LT
}
body {
  p = (s32[], f32[8,16], f32[8,16], f32[16,16], s32[]) parameter(0)
  i = s32[] get-tuple-element(p), index=0
  x = f32[8,16] get-tuple-element(p), index=1
  y = f32[8,16] get-tuple-element(p), index=2
  w = f32[16,16] get-tuple-element(p), index=3
  n = s32[] get-tuple-element(p), index=4
  one = s32[] constant(1)
  i1 = s32[] add(i, one)
  yw = f32[8,16] dot(y, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  three = s32[] constant(3)
  b = s32[] remainder(i, three)
  bm = s32[] subtract(b, one)
  c = f32[8,16] conditional(bm, yw, yw, yw), branch_computations={branch_scale, branch_loop, branch_identity}
  ROOT t = (s32[], f32[8,16], f32[8,16], f32[16,16], s32[]) tuple(i1, c, x, w, n)
}
on_true {
  v = f32[8,16] parameter(0)
  ROOT e = f32[8,16] tanh(v)
}
on_false {
  v = f32[8,16] parameter(0)
  ROOT e = f32[8,16] negate(v)
}
ENTRY e {
  x = f32[8,16] parameter(0)
  w = f32[16,16] parameter(1)
  n = s32[] parameter(2)
  flag = pred[] parameter(3)
  zero = s32[] constant(0)
  y0 = f32[8,16] cosine(x)
  init = (s32[], f32[8,16], f32[8,16], f32[16,16], s32[]) tuple(zero, x, y0, w, n)
  loop = (s32[], f32[8,16], f32[8,16], f32[16,16], s32[]) while(init), condition=cond, body=body
  i = s32[] get-tuple-element(loop), index=0
  lx = f32[8,16] get-tuple-element(loop), index=1
  ly = f32[8,16] get-tuple-element(loop), index=2
  pick = f32[8,16] conditional(flag, lx, ly), true_computation=on_true, false_computation=on_false
  ROOT t = (f32[8,16], f32[8,16], s32[], f32[8,16]) tuple(lx, pick, i, x)
})";

TEST_F(RuntimeTest, WhileAndConditionalThunksMatchTheInterpreter) {
  auto module = testing::ParseOrDie(kControlFlow);
  ASSERT_NE(module, nullptr);
  const fs::path source = dir_ / "control_flow.hlo";
  ASSERT_TRUE(WriteFileAtomically(source.string(), kControlFlow).ok());
  uint32_t seed = 5;
  for (const char* mesh : {"", "x=2"}) {
    CompileOptions options;
    options.input = source.string();
    options.output = (dir_ / "control_flow.pjit").string();
    options.mesh = mesh;
    auto report = Compile(options);
    ASSERT_TRUE(report.ok()) << mesh << ": " << report.status().message();
    auto artifact = ArtifactReader::Open(options.output);
    ASSERT_TRUE(artifact.ok());
    auto plan = (*artifact)->LoadThunks();
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    auto programs = (*artifact)->LoadDevicePrograms();
    ASSERT_TRUE(programs.ok()) << programs.status().message();
    const KernelInstructions instructions((*programs)[0].module.get());
    int whiles = 0, conditionals = 0;
    ASSERT_TRUE(ForEachThunk(ListThunks(plan->sequences[0]), [&](size_t, const Thunk& t) {
      whiles += std::holds_alternative<WhileThunk>(t);
      conditionals += std::holds_alternative<ConditionalThunk>(t);
      // Nothing is left for the reference kernels to loop or branch over.
      if (const auto* k = std::get_if<KernelThunk>(&t); k && k->executable == 0) {
        const Instruction* in = instructions.Find(k->kernel);
        EXPECT_NE(in, nullptr) << k->kernel;
        if (in) {
          EXPECT_TRUE(in->opcode != Opcode::kWhile && in->opcode != Opcode::kConditional) << k->kernel;
        }
      }
      return OkStatus();
    }).ok());
    EXPECT_EQ(whiles, 2) << mesh;
    EXPECT_EQ(conditionals, 2) << mesh;
    auto session = Session::Open(options.output, SessionOptions{"cpu", 0});
    ASSERT_TRUE(session.ok()) << session.status().message();
    for (int32_t n : {0, 1, 7}) {
      for (bool flag : {true, false}) {
        SCOPED_TRACE(::testing::Message() << "mesh '" << mesh << "', n = " << n << ", flag = " << flag);
        std::vector<Literal> inputs = testing::RandomInputs(*module, seed++, 0.5);
        inputs[2].Set<int32_t>(0, n);
        inputs[3].Set<bool>(0, flag);
        auto want = EvaluateModule(*module, inputs);
        ASSERT_TRUE(want.ok()) << want.status().message();
        std::vector<Literal> wants = FlattenResult(std::move(*want));
        auto got = (*session)->Run(inputs);
        ASSERT_TRUE(got.ok()) << got.status().message();
        ASSERT_EQ(got->size(), wants.size());
        for (size_t o = 0; o < wants.size(); ++o) EXPECT_TRUE(testing::AllClose((*got)[o], wants[o], 1e-4, 1e-5)) << "output " << o;
      }
    }
  }
}

// Layout normalisation: bitcasts between layouts become transposes and reshapes and every
// layout is dropped before partitioning, so the compiled program (one device and two) computes
// what the interpreter computes on the module with its layouts.
TEST_F(RuntimeTest, BitcastsBetweenLayoutsAreNormalised) {
  const char* text = R"(HloModule layouts
ENTRY e {
  x = f32[4,6]{1,0} parameter(0)
  y = f32[4,6]{0,1} copy(x)
  t = f32[6,4]{1,0} bitcast(y)
  c = f32[12,2]{0,1} bitcast(y)
  s = f32[6,4]{1,0} sine(t)
  z = f32[2,3,4]{2,0,1} bitcast(s)
  ROOT r = (f32[6,4], f32[12,2], f32[2,3,4]) tuple(s, c, z)
})";
  auto module = testing::ParseOrDie(text);
  ASSERT_NE(module, nullptr);
  CompileOptions options;
  options.input = (dir_ / "layouts.hlo").string();
  ASSERT_TRUE(WriteFileAtomically(options.input, text).ok());
  auto compiled = CompileText(text, options);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  for (const auto& in : compiled->device->entry->instructions) {
    EXPECT_NE(in->opcode, Opcode::kBitcast) << in->name;
    EXPECT_FALSE(in->shape.layout.has_value()) << in->name;
  }
  Literal x(Shape::Array(DType::kF32, {4, 6}));
  for (int64_t k = 0; k < x.element_count(); ++k) x.Set<float>(k, static_cast<float>(k));
  auto want = EvaluateModule(*module, {x});
  ASSERT_TRUE(want.ok()) << want.status().message();
  std::vector<Literal> wants = FlattenResult(std::move(*want));
  for (const char* mesh : {"", "x=2"}) {
    options.output = (dir_ / "layouts.pjit").string();
    options.mesh = mesh;
    auto report = Compile(options);
    ASSERT_TRUE(report.ok()) << mesh << ": " << report.status().message();
    auto session = Session::Open(options.output, SessionOptions{"cpu", 0});
    ASSERT_TRUE(session.ok()) << session.status().message();
    auto got = (*session)->Run({x});
    ASSERT_TRUE(got.ok()) << got.status().message();
    for (size_t o = 0; o < wants.size(); ++o) EXPECT_TRUE(testing::AllClose((*got)[o], wants[o], 1e-6, 1e-6)) << mesh << " output " << o;
  }
}

// In place: an elementwise kernel that is the last reader of an input it reads only at the
// element it writes takes that input's bytes (exp over the first product, the bias add over
// the second); a kernel that also reads its input transposed does not, nor does one whose
// input is read again later. The compiled program still matches the interpreter.
TEST_F(RuntimeTest, ElementwiseKernelsOverwriteInputsTheyReadLast) {
  const char* text = R"(HloModule in_place
ENTRY main {
  x = f32[40,40] parameter(0)
  w = f32[40,40] parameter(1)
  b = f32[40] parameter(2)
  d = f32[40,40] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  e = f32[40,40] exponential(d)
  f = f32[40,40] dot(e, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  bb = f32[40,40] broadcast(b), dimensions={1}
  g = f32[40,40] add(f, bb)
  s = f32[40,40] dot(g, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  st = f32[40,40] transpose(s), dimensions={1,0}
  y = f32[40,40] add(s, st)
  u = f32[40,40] dot(y, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  n = f32[40,40] negate(u)
  m = f32[40,40] dot(n, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  v = f32[40,40] multiply(m, u)
  ROOT r = f32[40,40] add(v, x)
})";
  auto module = testing::ParseOrDie(text);
  ASSERT_NE(module, nullptr);
  CompileOptions options;
  options.input = (dir_ / "in_place.hlo").string();
  options.output = (dir_ / "in_place.pjit").string();
  ASSERT_TRUE(WriteFileAtomically(options.input, text).ok());
  auto report = Compile(options);
  ASSERT_TRUE(report.ok()) << report.status().message();
  auto artifact = ArtifactReader::Open(options.output);
  ASSERT_TRUE(artifact.ok());
  auto plan = (*artifact)->LoadThunks();
  ASSERT_TRUE(plan.ok());
  std::map<std::string, BufferSlice> slice;
  for (const BufferInfo& b : plan->sequences[0].buffers) slice[b.instruction] = b.slice;
  ASSERT_TRUE(slice.count("e") && slice.count("g") && slice.count("y"));
  EXPECT_EQ(slice["e"], slice["d"]) << "exp overwrites the product it reads last";
  EXPECT_EQ(slice["g"], slice["f"]) << "the bias add overwrites the product";
  EXPECT_NE(slice["y"].offset, slice["s"].offset) << "s is read transposed too";
  ASSERT_TRUE(slice.count("n") && slice.count("u"));
  EXPECT_NE(slice["n"].offset, slice["u"].offset) << "u is read again by v";
  std::vector<Literal> inputs = testing::RandomInputs(*module, 9, 0.2);
  auto want = EvaluateModule(*module, inputs);
  ASSERT_TRUE(want.ok());
  auto session = Session::Open(options.output, SessionOptions{"cpu", 0});
  ASSERT_TRUE(session.ok()) << session.status().message();
  auto got = (*session)->Run(inputs);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_TRUE(testing::AllClose((*got)[0], *want, 1e-4, 1e-5));
}

// Constants have bytes of their own in the plan, so the platforms write them once at load and
// skip their kernels: results stay right over repeated runs on several devices (a temporary
// reusing a constant's bytes would change the second run), and a plan whose table shows
// another buffer in a constant's bytes (as plans before pinning did) runs its constant
// kernels every time instead.
TEST_F(RuntimeTest, PinnedConstantsAreWrittenOnceAtLoad) {
  auto module = testing::ParseOrDie(R"(HloModule m, num_partitions=2
ENTRY e {
  x = f32[2,3] parameter(0)
  c = f32[2,3] constant({{1, 2, 3}, {4, 5, 6}})
  a = f32[2,3] add(x, c)
  b = f32[2,3] multiply(a, a)
  n = f32[2,3] negate(b)
  ROOT d = f32[2,3] subtract(n, x)
})");
  ASSERT_NE(module, nullptr);
  auto plan = LowerToThunks(*module);
  ASSERT_TRUE(plan.ok());
  ThunkSequence& seq = plan->sequences[0];
  ThunkLists lists = ListThunks(seq);
  KernelInstructions instructions(module.get());
  std::vector<const Instruction*> kernels(lists.count, nullptr);
  ASSERT_TRUE(ForEachThunk(lists, [&](size_t i, const Thunk& t) {
    if (const auto* k = std::get_if<KernelThunk>(&t)) kernels[i] = instructions.Find(k->kernel);
    return OkStatus();
  }).ok());
  std::vector<bool> preloadable = PreloadableConstants(lists, kernels, seq);
  for (size_t i = 0; i < kernels.size(); ++i)
    EXPECT_EQ(preloadable[i], kernels[i] && kernels[i]->name == "c") << "thunk " << i;
  ThunkSequence shared = seq;
  for (const BufferInfo& b : seq.buffers)
    if (b.instruction == "c") shared.buffers.push_back(BufferInfo{"n", 0, BufferInfo::Kind::kTemporary, b.slice, 3, 4});
  for (bool p : PreloadableConstants(lists, kernels, shared)) EXPECT_FALSE(p);

  std::string path = WriteSpmdArtifact(*module, Mesh::Linear(2), dir_ / "constants.pjit");
  auto session = Session::Open(path, SessionOptions{"cpu", 0});
  ASSERT_TRUE(session.ok()) << session.status().message();
  Literal x(Shape::Array(DType::kF32, {2, 3}));
  for (int64_t k = 0; k < 6; ++k) x.Set<float>(k, 0.5f * static_cast<float>(k) - 1.0f);
  auto want = EvaluateModule(*module, {x});
  ASSERT_TRUE(want.ok());
  for (int run = 0; run < 3; ++run) {
    auto got = (*session)->Run({x});
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_TRUE((*got)[0] == *want) << "run " << run;
  }
}

// Parameters and results live in the caller's memory when the plan pins them (and go through
// the arena when it does not): results right either way, a result that is a parameter or
// repeats another comes out as a copy, and a second run on the same device inputs agrees
// (no run writes its inputs).
TEST_F(RuntimeTest, ParametersAndResultsInPlaceOrThroughTheArena) {
  auto module = testing::ParseOrDie(R"(HloModule m, num_partitions=2
ENTRY e {
  x = f32[64,33] parameter(0)
  y = f32[64,33] parameter(1)
  s = f32[64,33] add(x, y)
  g = f32[128,33] all-gather(s), dimensions={0}, channel_id=1, replica_groups={{0,1}}, use_global_device_ids=true
  ROOT t = (f32[64,33], f32[64,33], f32[64,33], f32[128,33], f32[64,33]) tuple(s, x, s, g, y)
})");
  ASSERT_NE(module, nullptr);
  for (bool unpinned : {false, true}) {
    SCOPED_TRACE(unpinned ? "through the arena" : "in place");
    std::string path = WriteSpmdArtifact(*module, Mesh::Linear(2), dir_ / "inplace.pjit", unpinned);
    auto session = Session::Open(path, SessionOptions{"cpu", 0});
    ASSERT_TRUE(session.ok()) << session.status().message();
    std::vector<Literal> inputs;
    for (int i = 0; i < 2; ++i) {
      Literal l(Shape::Array(DType::kF32, {64, 33}));
      for (int64_t k = 0; k < l.element_count(); ++k) l.Set<float>(k, static_cast<float>(k % 97) * (i ? -0.5f : 2.0f));
      inputs.push_back(std::move(l));
    }
    // Two runs on the same device inputs: a run that wrote its inputs would change the second.
    auto on_devices = (*session)->Upload(inputs);
    ASSERT_TRUE(on_devices.ok()) << on_devices.status().message();
    ASSERT_TRUE((*session)->Execute(*on_devices).ok());
    auto outputs = (*session)->Execute(*on_devices);
    ASSERT_TRUE(outputs.ok()) << outputs.status().message();
    auto shards = (*session)->DownloadShards(*outputs);
    ASSERT_TRUE(shards.ok()) << shards.status().message();
    auto got = (*session)->Assemble(*shards);
    ASSERT_TRUE(got.ok()) << got.status().message();
    ASSERT_EQ(got->size(), 5u);
    Literal sum(inputs[0].shape()), gathered(Shape::Array(DType::kF32, {128, 33}));
    for (int64_t k = 0; k < sum.element_count(); ++k) {
      sum.Set<float>(k, inputs[0].Get<float>(k) + inputs[1].Get<float>(k));
      gathered.Set<float>(k, sum.Get<float>(k));
      gathered.Set<float>(k + sum.element_count(), sum.Get<float>(k));  // both devices hold the same replicated inputs
    }
    const Literal* wants[] = {&sum, &inputs[0], &sum, &gathered, &inputs[1]};
    for (size_t o = 0; o < 5; ++o) EXPECT_TRUE((*got)[o] == *wants[o]) << "output " << o;
  }
}

TEST_F(RuntimeTest, AFailingDeviceStopsTheOthersWithItsError) {
  auto module = testing::ParseOrDie(R"(HloModule m, num_partitions=2
add { a = f32[] parameter(0)  b = f32[] parameter(1)  ROOT r = f32[] add(a, b) }
ENTRY e {
  x = f32[4] parameter(0)
  ROOT s = f32[4] all-reduce(x), channel_id=1, replica_groups={{0,1}}, use_global_device_ids=true, to_apply=add
})");
  ASSERT_NE(module, nullptr);
  auto bytes = ReadFileToString(WriteSpmdArtifact(*module, Mesh::Linear(2), dir_ / "m.pjit"));
  ASSERT_TRUE(bytes.ok());
  HostClientOptions options;
  options.num_devices = 2;
  options.timeout_ms = 600'000;  // the test would take ten minutes if device 0 waited it out
  auto executable = CpuExecutable::Load(*bytes, "m.pjit", options);
  ASSERT_TRUE(executable.ok()) << executable.status().message();
  Literal good(Shape::Array(DType::kF32, {4})), bad(Shape::Array(DType::kF32, {3}));
  auto start = std::chrono::steady_clock::now();
  auto result = (*executable)->Execute({{&good}, {&bad}});
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("device 1: input 0 is f32[3] (12 bytes), the device expects 16 bytes"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
  // The executable stays usable.
  auto again = (*executable)->Execute({{&good}, {&good}});
  EXPECT_TRUE(again.ok()) << again.status().message();
}

TEST(RendezvousTest, ATimeoutNamesTheDevicesThatDidNotArrive) {
  Rendezvous r({3, 5, 7});
  std::atomic<bool> aborted{false};
  std::thread five([&] { EXPECT_FALSE(r.Wait(1, std::chrono::steady_clock::now() + std::chrono::milliseconds(200), aborted, "x").ok()); });
  Status s = r.Wait(0, std::chrono::steady_clock::now() + std::chrono::milliseconds(100), aborted, "all-reduce ar.1");
  five.join();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("all-reduce ar.1: device(s) "));
  EXPECT_THAT(s.message(), HasSubstr("7 did not arrive in time"));
}

TEST(RendezvousTest, ManyRoundsOfManyDevices) {
  constexpr int kDevices = 32, kRounds = 200;
  std::vector<int64_t> ids(kDevices);
  for (int i = 0; i < kDevices; ++i) ids[static_cast<size_t>(i)] = i;
  Rendezvous r(ids);
  std::atomic<bool> aborted{false};
  std::vector<int> progress(kDevices, 0);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int d = 0; d < kDevices; ++d)
    threads.emplace_back([&, d] {
      for (int round = 0; round < kRounds; ++round) {
        progress[static_cast<size_t>(d)] = round;
        if (!r.Wait(static_cast<size_t>(d), std::chrono::steady_clock::now() + std::chrono::seconds(60), aborted, "x").ok()) ++failures;
        // After the meeting every device has reached this round.
        for (int other = 0; other < kDevices; ++other)
          if (progress[static_cast<size_t>(other)] < round) ++failures;
        if (!r.Wait(static_cast<size_t>(d), std::chrono::steady_clock::now() + std::chrono::seconds(60), aborted, "x").ok()) ++failures;
      }
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, 0);
}

// --cores-per-device reaches the cpu platform through the client options (ABI 1.1): a bad
// count is refused, one core per device gives the same results.
TEST_F(RuntimeTest, CoresPerDeviceReachTheCpuPlatform) {
  auto plugin = Plugin::Load("cpu");
  ASSERT_TRUE(plugin.ok()) << plugin.status().message();
  auto too_many = PluginClient::Create(*plugin, 2, 0, 5000);
  ASSERT_FALSE(too_many.ok());
  EXPECT_THAT(too_many.status().message(), HasSubstr("cpu: cannot give each device 5000 cores (0 to 4096)"));
  CompileOptions options;
  options.input = testing::TestdataPath("softmax.hlo");
  options.output = (dir_ / "softmax.pjit").string();
  options.mesh = "x=2";
  options.in_shardings = {"0=x,_"};
  ASSERT_TRUE(Compile(options).ok());
  SessionOptions so;
  so.cores_per_device = 1;
  auto session = Session::Open(options.output, so);
  ASSERT_TRUE(session.ok()) << session.status().message();
  auto outputs = (*session)->Run(testing::ReadTestdataInputs("softmax", 1));
  ASSERT_TRUE(outputs.ok()) << outputs.status().message();
  auto want = ReadNpy(testing::TestdataPath("softmax.out0.npy"));
  ASSERT_TRUE(want.ok());
  EXPECT_TRUE(testing::AllClose((*outputs)[0], *want, 1e-4, 1e-5));
}

TEST(PluginLoaderTest, NamesWhatIsWrongWithAPlugin) {
  auto missing = Plugin::Load("nosuch");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("--platform nosuch: no plugin libpjit_plugin_nosuch.so"));
  EXPECT_THAT(missing.status().message(), HasSubstr("cpu"));
  auto bad_name = Plugin::Load("../evil");
  EXPECT_FALSE(bad_name.ok());
  auto not_a_library = Plugin::Load(testing::TestdataPath("mlp.hlo"));
  ASSERT_FALSE(not_a_library.ok());
  EXPECT_THAT(not_a_library.status().message(), HasSubstr("cannot load plugin"));
}

// The ABI shim (tests/abi_shim_plugin.cc) forwards to the cpu plugin but presents its table
// the way PJIT_TEST_SHIM_MODE says.
TEST(PluginLoaderTest, APluginWithTheCoreTableOnlyStillRuns) {
  ::setenv("PJIT_TEST_SHIM_MODE", "core", 1);
  auto plugin = Plugin::Load(PJIT_ABI_SHIM);
  ASSERT_TRUE(plugin.ok()) << plugin.status().message();
  EXPECT_EQ((*plugin)->api().executable_describe, nullptr);  // past its struct_size: reads as absent
  EXPECT_EQ((*plugin)->api().event_is_ready, nullptr);
  auto module = testing::ParseOrDie("HloModule m\nENTRY e {\n  x = f32[2] parameter(0)\n  ROOT y = f32[2] add(x, x)\n}\n");
  fs::path dir = fs::temp_directory_path() / ("pjit_abi_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto bytes = ReadFileToString(WriteSpmdArtifact(*module, Mesh::Linear(1), dir / "m.pjit"));
  fs::remove_all(dir);
  ASSERT_TRUE(bytes.ok());
  auto client = PluginClient::Create(*plugin, 1);
  ASSERT_TRUE(client.ok()) << client.status().message();
  auto executable = (*client)->Load(*bytes, "m.pjit");
  ASSERT_TRUE(executable.ok()) << executable.status().message();
  Literal x(Shape::Array(DType::kF32, {2}));
  x.Set<float>(0, 1.5f);
  x.Set<float>(1, -2.0f);
  auto buffer = (*client)->BufferFromHost(x, 0);
  ASSERT_TRUE(buffer.ok());
  auto results = (*executable)->Execute({{&*buffer}}, 1);
  ASSERT_TRUE(results.ok()) << results.status().message();
  auto y = (*results)[0][0].ToHost();
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(y->Get<float>(0), 3.0f);
  EXPECT_EQ(y->Get<float>(1), -4.0f);

  ::setenv("PJIT_TEST_SHIM_MODE", "major2", 1);
  auto newer = Plugin::Load(PJIT_ABI_SHIM);
  ASSERT_FALSE(newer.ok());
  EXPECT_THAT(newer.status().message(), HasSubstr("plugin ABI 2.0, this pjit speaks 1.x"));
  ::setenv("PJIT_TEST_SHIM_MODE", "short", 1);
  auto short_table = Plugin::Load(PJIT_ABI_SHIM);
  ASSERT_FALSE(short_table.ok());
  EXPECT_THAT(short_table.status().message(), HasSubstr("shorter than the ABI's core"));
  ::setenv("PJIT_TEST_SHIM_MODE", "tiny", 1);
  auto tiny_table = Plugin::Load(PJIT_ABI_SHIM);
  ASSERT_FALSE(tiny_table.ok());
  EXPECT_THAT(tiny_table.status().message(), HasSubstr("plugin table of 4 bytes is too short to hold its ABI version"));
  ::unsetenv("PJIT_TEST_SHIM_MODE");
}

// A plugin that reports success but hands back a null client or device list, or fewer
// devices than asked for, is an error, not a crash.
TEST(PluginLoaderTest, WhatAPluginHandsBackIsChecked) {
  const std::pair<const char*, const char*> cases[] = {
      {"null-client", "client_create succeeded but returned no client"},
      {"null-devices", "client_devices returned no device list"},
      {"no-devices", "the client has 0 devices, the mesh needs 2"},
  };
  for (const auto& [mode, message] : cases) {
    ::setenv("PJIT_TEST_SHIM_MODE", mode, 1);
    auto plugin = Plugin::Load(PJIT_ABI_SHIM);
    ASSERT_TRUE(plugin.ok()) << plugin.status().message();
    auto client = PluginClient::Create(*plugin, 2);
    ASSERT_FALSE(client.ok()) << mode;
    EXPECT_THAT(client.status().message(), HasSubstr(message));
  }
  ::unsetenv("PJIT_TEST_SHIM_MODE");
}

}  // namespace
}  // namespace pjit
