// The SPMD partitioner's property: on the same random inputs, the per-device programs run
// together (reference interpreter, real collective semantics) give exactly what the
// unpartitioned program gives, for every testdata module on several meshes and shardings;
// and the communication it chooses for the key cases is the minimal one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

#include "compile/pipeline.h"
#include "format/artifact.h"
#include "format/file_util.h"
#include "format/hlo_parser.h"
#include "format/hlo_printer.h"
#include "format/verifier.h"
#include "format/npy.h"
#include "run/interpreter/evaluator.h"
#include "run/sharded_arrays.h"
#include "tests/mesh_configs.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

// Integer inputs from testdata module `name`'s .npy files (indices must stay in range),
// else random; `name` empty: all random.
std::vector<Literal> Inputs(const std::string& name, const Module& m, std::mt19937& rng) {
  std::vector<Literal> args;
  for (size_t i = 0; i < m.entry->parameters.size(); ++i) {
    StatusOr<Literal> npy = name.empty() ? NotFound("no testdata")
                                         : ReadNpy(testing::TestdataPath(name + ".in" + std::to_string(i) + ".npy"));
    const Shape& want = m.entry->parameters[i]->shape;
    if (npy.ok() && npy->shape().Compatible(want) && !IsFloating(want.dtype)) args.push_back(std::move(*npy));
    else args.push_back(testing::RandomArray(want, rng));
  }
  return args;
}

using Config = testing::MeshConfig;

// Runs the global program and the partitioned one on the same inputs (from `name`'s testdata
// files where they exist). Sets *global_ran to whether the interpreter could run the global
// program at all.
::testing::AssertionResult SameResults(const std::string& name, const Module& global, const CompiledProgram& p,
                                       bool* global_ran = nullptr) {
  for (const Instruction* param : global.entry->parameters)
    if (!param->shape.IsArray()) {  // ShardArray cuts arrays only
      if (global_ran) *global_ran = false;
      return ::testing::AssertionFailure() << "a tuple parameter";
    }
  std::mt19937 rng(7);
  std::vector<Literal> args = Inputs(name, global, rng);
  StatusOr<Literal> want = EvaluateModule(global, args);
  if (global_ran) *global_ran = want.ok();
  if (!want.ok()) return ::testing::AssertionFailure() << "global: " << want.status().message();

  Signature sig = ShardedSignature(*p.global, p.mesh);
  int64_t n = p.mesh.device_count();
  std::vector<std::vector<Literal>> per_device(static_cast<size_t>(n));
  for (size_t i = 0; i < args.size(); ++i) {
    std::vector<Literal> shards = ShardArray(args[i], sig.inputs[i], n);
    for (int64_t d = 0; d < n; ++d) per_device[d].push_back(std::move(shards[d]));
  }
  StatusOr<std::vector<Literal>> got = EvaluateSpmd(*p.device, per_device, 120'000);
  if (!got.ok()) return ::testing::AssertionFailure() << "partitioned: " << got.status().message() << "\n" << PrintModule(*p.device);
  std::vector<std::vector<Literal>> outs;  // [device][output]
  for (Literal& r : *got) outs.push_back(FlattenResult(std::move(r)));
  std::vector<Literal> wants = FlattenResult(std::move(*want));
  if (wants.size() != sig.outputs.size()) {  // a tuple-shaped root that is not a tuple: one signature entry
    if (global_ran) *global_ran = false;
    return ::testing::AssertionFailure() << "the signature does not list the results one by one";
  }
  for (size_t o = 0; o < wants.size(); ++o) {
    if (!wants[o].shape().IsArray()) continue;  // tokens
    std::vector<Literal> shards;
    for (int64_t d = 0; d < n; ++d) shards.push_back(std::move(outs[d][o]));
    StatusOr<Literal> assembled = AssembleArray(shards, sig.outputs[o]);
    if (!assembled.ok()) return ::testing::AssertionFailure() << assembled.status().message();
    bool low = wants[o].shape().dtype == DType::kF16 || wants[o].shape().dtype == DType::kBF16;
    ::testing::AssertionResult close = testing::AllClose(*assembled, wants[o], low ? 5e-2 : 1e-4, low ? 0.25 : 1e-5);
    if (!close) return close << " (output " << o << ")\n" << PrintModule(*p.device);
  }
  return ::testing::AssertionSuccess();
}

// Compiles `text` with `options` and checks the partitioned program against the global one.
::testing::AssertionResult PartitionedMatchesGlobal(const std::string& name, const std::string& text, const CompileOptions& options,
                                                    CompiledProgram* compiled = nullptr) {
  auto global = testing::ParseOrDie(text);
  StatusOr<CompiledProgram> p = CompileText(text, options);
  if (!p.ok()) return ::testing::AssertionFailure() << p.status().message();
  ::testing::AssertionResult same = SameResults(name, *global, *p);
  if (compiled) *compiled = std::move(*p);
  return same;
}

::testing::AssertionResult PartitionedMatchesGlobal(const std::string& name, const Config& c) {
  StatusOr<std::string> text = ReadFileToString(testing::TestdataPath(name + ".hlo"));
  if (!text.ok()) return ::testing::AssertionFailure() << text.status().message();
  auto global = testing::ParseOrDie(*text);
  CompileOptions options;
  options.input = name + ".hlo";
  testing::SetMeshAndShardings(*global, c, options);
  return PartitionedMatchesGlobal(name, *text, options);
}

const std::vector<Config>& Configs() {
  static const std::vector<Config> configs = [] {
    std::vector<Config> c;
    for (int64_t shift : {0, 1}) {
      c.push_back({"x=2", {"x"}, shift});
      c.push_back({"x=4", {"x"}, shift});
      c.push_back({"data=2,model=2", {"data", "model"}, shift});
      c.push_back({"data=2,model=4", {"data", "model"}, shift});
      c.push_back({"x=3", {"x"}, shift});
    }
    return c;
  }();
  return configs;
}

class PartitionedModule : public ::testing::TestWithParam<std::string> {};

TEST_P(PartitionedModule, EqualsTheGlobalProgramOnEveryMesh) {
  for (const Config& c : Configs()) EXPECT_TRUE(PartitionedMatchesGlobal(GetParam(), c)) << "mesh " << c.mesh << ", shift " << c.shift;
}

INSTANTIATE_TEST_SUITE_P(Testdata, PartitionedModule, ::testing::ValuesIn(testing::TestdataModules()));

// Collectives of the per-device program by opcode name ("all-reduce": 1, ...).
std::map<std::string, int> Collectives(const Module& m) {
  std::map<std::string, int> count;
  for (const auto& c : m.computations)
    for (const auto& in : c->instructions)
      if (IsCollective(in->opcode)) ++count[std::string(OpcodeName(in->opcode))];
  return count;
}

CompiledProgram CheckedCompile(const std::string& text, const std::string& mesh, std::vector<std::string> in,
                               std::vector<std::string> out) {
  CompileOptions options;
  options.input = "test.hlo";
  options.mesh = mesh;
  options.in_shardings = std::move(in);
  options.out_shardings = std::move(out);
  CompiledProgram p;
  EXPECT_TRUE(PartitionedMatchesGlobal("", text, options, &p));
  return p;
}

constexpr const char* kMlp = R"(HloModule mlp
relu {
  x = f32[16,64] parameter(0)
  zero = f32[] constant(0)
  z = f32[16,64] broadcast(zero), dimensions={}
  ROOT r = f32[16,64] maximum(x, z)
}
ENTRY e {
  x = f32[16,32] parameter(0)
  w1 = f32[32,64] parameter(1)
  w2 = f32[64,8] parameter(2)
  h = f32[16,64] dot(x, w1), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  a = f32[16,64] call(h), to_apply=relu
  ROOT y = f32[16,8] dot(a, w2), lhs_contracting_dims={1}, rhs_contracting_dims={0}
})";

using Counts = std::map<std::string, int>;

TEST(Communication, DataParallelMlpForwardHasNoCollective) {
  CompiledProgram p = CheckedCompile(kMlp, "data=4", {"0=data,_"}, {"0=data,_"});
  EXPECT_EQ(Collectives(*p.device), Counts{});
}

TEST(Communication, MegatronMlpHasOneAllReduce) {
  CompiledProgram p = CheckedCompile(kMlp, "data=2,model=2", {"0=data,_", "1=_,model", "2=model,_"}, {"0=data,_"});
  EXPECT_EQ(Collectives(*p.device), (Counts{{"all-reduce", 1}}));
  EXPECT_THAT(PrintModule(*p.device), ::testing::HasSubstr("replica_groups={{0,1},{2,3}}"));
}

TEST(Communication, ContractingShardedMatmulWithAShardedResultUsesAReduceScatter) {
  CompiledProgram p = CheckedCompile(R"(HloModule m
ENTRY e {
  x = f32[8,32] parameter(0)
  w = f32[32,16] parameter(1)
  ROOT y = f32[8,16] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}
})", "x=4", {"0=_,x", "1=x,_"}, {"0=x,_"});
  EXPECT_EQ(Collectives(*p.device), (Counts{{"reduce-scatter", 1}}));
}

TEST(Communication, ReduceOverASplitDimWithASplitResultUsesAReduceScatter) {
  // Row sums of x split by columns 4 ways, wanted split by rows: each device sums its columns
  // and keeps its quarter of the rows' totals (10 rows: padded to 12).
  CompiledProgram p = CheckedCompile(R"(HloModule m
add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT s = f32[] add(a, b)
}
ENTRY e {
  x = f32[10,12] parameter(0)
  zero = f32[] constant(0)
  ROOT y = f32[10] reduce(x, zero), dimensions={1}, to_apply=add
})", "x=4", {"0=_,x"}, {"0=x"});
  EXPECT_EQ(Collectives(*p.device), (Counts{{"reduce-scatter", 1}}));
}

TEST(Communication, SoftmaxOverAShardedDimUsesTwoAllReduces) {
  CompiledProgram p = CheckedCompile(R"(HloModule m
max {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT m = f32[] maximum(a, b)
}
add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT s = f32[] add(a, b)
}
ENTRY e {
  x = f32[4,10] parameter(0)
  ninf = f32[] constant(-inf)
  zero = f32[] constant(0)
  m = f32[4] reduce(x, ninf), dimensions={1}, to_apply=max
  mb = f32[4,10] broadcast(m), dimensions={0}
  d = f32[4,10] subtract(x, mb)
  e = f32[4,10] exponential(d)
  s = f32[4] reduce(e, zero), dimensions={1}, to_apply=add
  sb = f32[4,10] broadcast(s), dimensions={0}
  ROOT y = f32[4,10] divide(e, sb)
})", "x=3", {"0=_,x"}, {"0=_,x"});
  EXPECT_EQ(Collectives(*p.device), (Counts{{"all-reduce", 2}}));
}

TEST(Communication, BatchAndFeatureSplitConvolutionIsLocal) {
  CompiledProgram p = CheckedCompile(R"(HloModule m
ENTRY e {
  x = f32[6,9,9,4] parameter(0)
  k = f32[3,3,4,8] parameter(1)
  ROOT y = f32[6,9,9,8] convolution(x, k), window={size=3x3 pad=1_1x1_1}, dim_labels=b01f_01io->b01f
})", "data=3,model=2", {"0=data,_,_,_", "1=_,_,_,model"}, {"0=data,_,_,model"});
  EXPECT_EQ(Collectives(*p.device), Counts{});
}

TEST(Communication, SpatiallySplitConvolutionExchangesHalos) {
  // Rows split 3 ways (10 rows: 4, 4, 2 and padding): each device gets one row from each
  // neighbour (two collective-permutes); the first and last get zeros, which are the padding.
  // The input is computed (x + 1), so its padding rows hold ones until they are masked.
  CompiledProgram rows = CheckedCompile(R"(HloModule m
ENTRY e {
  x = f32[2,10,9,3] parameter(0)
  one = f32[] constant(1)
  ones = f32[2,10,9,3] broadcast(one), dimensions={}
  x1 = f32[2,10,9,3] add(x, ones)
  k = f32[3,3,3,4] parameter(1)
  ROOT y = f32[2,10,9,4] convolution(x1, k), window={size=3x3 pad=1_1x1_1}, dim_labels=b01f_01io->b01f
})", "x=3", {"0=_,x,_,_"}, {"0=_,x,_,_"});
  EXPECT_EQ(Collectives(*rows.device), (Counts{{"collective-permute", 2}}));
  // A 5-wide window over columns split 4 ways on a 2x4 mesh, batch over the other axis.
  CompiledProgram wide = CheckedCompile(R"(HloModule m
ENTRY e {
  x = f32[4,6,12,2] parameter(0)
  k = f32[3,5,2,3] parameter(1)
  ROOT y = f32[4,6,12,3] convolution(x, k), window={size=3x5 pad=1_1x2_2}, dim_labels=b01f_01io->b01f
})", "data=2,model=4", {"0=data,_,model,_"}, {"0=data,_,model,_"});
  EXPECT_EQ(Collectives(*wide.device), (Counts{{"collective-permute", 2}}));
  // Padding only after the rows: only the next device's first rows are needed.
  CompiledProgram after = CheckedCompile(R"(HloModule m
ENTRY e {
  x = f32[1,8,5,1] parameter(0)
  k = f32[3,1,1,1] parameter(1)
  ROOT y = f32[1,8,5,1] convolution(x, k), window={size=3x1 pad=0_2x0_0}, dim_labels=b01f_01io->b01f
})", "x=2", {"0=_,x,_,_"}, {"0=_,x,_,_"});
  EXPECT_EQ(Collectives(*after.device), (Counts{{"collective-permute", 1}}));
}

TEST(Communication, ReshardingThatMovesASplitIsOneAllToAll) {
  // Rows over `data` become columns over `data`; `model` stays: one all-to-all in the groups
  // that differ in `data` moves half a shard instead of gathering one.
  CompiledProgram p = CheckedCompile(R"(HloModule m
ENTRY e {
  x = f32[8,8,4] parameter(0)
  ROOT y = f32[8,8,4] copy(x)
})", "data=2,model=2", {"0=data,_,model"}, {"0=_,data,model"});
  EXPECT_EQ(Collectives(*p.device), (Counts{{"all-to-all", 1}}));
  EXPECT_THAT(PrintModule(*p.device), ::testing::HasSubstr("replica_groups={{0,2},{1,3}}"));
  // Uneven on both dims (10 rows and 7 columns over 3 devices): padded, exchanged, sliced.
  CompiledProgram uneven = CheckedCompile(R"(HloModule m
ENTRY e {
  x = f32[10,7] parameter(0)
  ROOT y = f32[10,7] copy(x)
})", "x=3", {"0=x,_"}, {"0=_,x"});
  EXPECT_EQ(Collectives(*uneven.device), (Counts{{"all-to-all", 1}}));
}

constexpr const char* kEmbedding = R"(HloModule m
ENTRY e {
  table = f32[12,10] parameter(0)
  ids = s32[6,4] parameter(1)
  ROOT y = f32[6,4,10] gather(table, ids), offset_dims={2}, collapsed_slice_dims={0}, start_index_map={0}, index_vector_dim=2, slice_sizes={1,10}
})";

TEST(Communication, GatherSplitByBatchOrByFeatureIsLocal) {
  // Ids split by batch (3 ways, 6 rows): each device looks up its rows in the whole table.
  CompiledProgram batch = CheckedCompile(kEmbedding, "data=3", {"1=data,_"}, {"0=data,_,_"});
  EXPECT_EQ(Collectives(*batch.device), Counts{});
  // The table split by feature (4 ways over 10 columns, uneven): each device gathers its columns.
  CompiledProgram feature = CheckedCompile(kEmbedding, "model=4", {"0=_,model"}, {"0=_,_,model"});
  EXPECT_EQ(Collectives(*feature.device), Counts{});
  // Both at once on a 2-D mesh.
  CompiledProgram both = CheckedCompile(kEmbedding, "data=2,model=2", {"0=_,model", "1=data,_"}, {"0=data,_,model"});
  EXPECT_EQ(Collectives(*both.device), Counts{});
}

TEST(Communication, VocabularySplitEmbeddingIsOneAllReduce) {
  // The table's 12 rows split 4 ways (uneven: 5 rows would pad too, below): each device looks
  // up the ids it holds rows for, the rest are zeros, and one all-reduce adds them up.
  CompiledProgram p = CheckedCompile(kEmbedding, "model=4", {"0=model,_"}, {});
  EXPECT_EQ(Collectives(*p.device), (Counts{{"all-reduce", 1}}));
  // Ids split by batch over `data` as well, rows over `model`, with an explicit index vector.
  CompiledProgram both = CheckedCompile(R"(HloModule m
ENTRY e {
  table = f32[10,6] parameter(0)
  ids = s32[4,3,1] parameter(1)
  ROOT y = f32[4,3,6] gather(table, ids), offset_dims={2}, collapsed_slice_dims={0}, start_index_map={0}, index_vector_dim=2, slice_sizes={1,6}
})", "data=2,model=3", {"0=model,_", "1=data,_,_"}, {"0=data,_,_"});
  EXPECT_EQ(Collectives(*both.device), (Counts{{"all-reduce", 1}}));
  EXPECT_THAT(PrintModule(*both.device), ::testing::HasSubstr("replica_groups={{0,1,2},{3,4,5}}"));
  // 5 rows over 2 devices (3 + 2 and a padding row) and random ids up to 6: ids past the end
  // are clamped to the last row, as the unpartitioned gather clamps them.
  CompiledProgram clamped = CheckedCompile(R"(HloModule m
ENTRY e {
  table = f32[5,4] parameter(0)
  ids = s32[16] parameter(1)
  ROOT y = f32[16,4] gather(table, ids), offset_dims={1}, collapsed_slice_dims={0}, start_index_map={0}, index_vector_dim=1, slice_sizes={1,4}
})", "model=2", {"0=model,_"}, {});
  EXPECT_EQ(Collectives(*clamped.device), (Counts{{"all-reduce", 1}}));
}

TEST(Communication, ScatterIntoAWholeWindowSplitIsLocal) {
  // Rows of x picked by idx get updates added; x's columns (each update covers them all) are
  // split 2 ways, and so are the updates': no collective.
  CompiledProgram p = CheckedCompile(R"(HloModule m
add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT s = f32[] add(a, b)
}
ENTRY e {
  x = f32[8,6] parameter(0)
  idx = s32[5,1] parameter(1)
  u = f32[5,6] parameter(2)
  ROOT y = f32[8,6] scatter(x, idx, u), update_window_dims={1}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add
})", "model=2", {"0=_,model", "2=_,model"}, {"0=_,model"});
  EXPECT_EQ(Collectives(*p.device), Counts{});
}

TEST(Communication, ReshardingBetweenSplitDimsGathersOnlyWhatChanges) {
  // Rows over `data` and columns over `model` become columns over `data`: dim 0 is gathered,
  // dim 1 keeps its tiles' size and only changes which devices hold them (a permute).
  CompiledProgram p = CheckedCompile(R"(HloModule m
ENTRY e {
  x = f32[8,8] parameter(0)
  ROOT y = f32[8,8] copy(x)
})", "data=2,model=2", {"0=data,model"}, {"0=_,data"});
  EXPECT_EQ(Collectives(*p.device), (Counts{{"all-gather", 1}, {"collective-permute", 1}}));
}

CompileOptions OnMesh(const std::string& mesh) {
  CompileOptions o;
  o.input = "manual.hlo";
  o.mesh = mesh;
  return o;
}

// The compiled `p` gives what the global program `whole` gives on random inputs, with `collectives`.
void ExpectMatchesWhole(const StatusOr<CompiledProgram>& p, const std::string& whole, const Counts& collectives) {
  ASSERT_TRUE(p.ok()) << p.status().message();
  auto reference = testing::ParseOrDie(whole);
  ASSERT_NE(reference, nullptr);
  EXPECT_TRUE(SameResults("", *reference, *p));
  EXPECT_EQ(Collectives(*p->device), collectives);
}

// The manual-region tests' loop: a counter and an array of `rows` rows halved three times.
// Annotated (`mixed`), its state is a replicated counter beside a manual array, and a
// replicated scalar enters the manual region; else it carries no shardings.
std::string HalvingLoop(const std::string& rows, bool mixed) {
  std::string text = R"(HloModule m
body {
  p = (s32[], f32[R,8]) parameter(0)SP
  i = s32[] get-tuple-element(p), index=0
  x = f32[R,8] get-tuple-element(p), index=1MS
  one = s32[] constant(1)
  i1 = s32[] add(i, one)
  h = f32[] constant(0.5)RS
  hb = f32[R,8] broadcast(h), dimensions={}MS
  x1 = f32[R,8] multiply(x, hb)MS
  ROOT t = (s32[], f32[R,8]) tuple(i1, x1)SP
}
cond {
  p = (s32[], f32[R,8]) parameter(0)SP
  i = s32[] get-tuple-element(p), index=0
  n = s32[] constant(3)
  ROOT lt = pred[] compare(i, n), direction=LT
}
)";
  auto replace = [&](const std::string& from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
  };
  replace("f32[R,", "f32[" + rows + ",");
  replace("SP\n", mixed ? ", sharding={{replicated}, {manual}}\n" : "\n");
  replace("MS\n", mixed ? ", sharding={manual}\n" : "\n");
  replace("RS\n", mixed ? ", sharding={replicated}\n" : "\n");
  return text;
}

const char kHalvingWhole[] = R"(ENTRY e {
  x = f32[8,8] parameter(0)
  z = s32[] constant(0)
  t = (s32[], f32[8,8]) tuple(z, x)
  w = (s32[], f32[8,8]) while(t), condition=cond, body=body
  ROOT y = f32[8,8] get-tuple-element(w), index=1
})";

// A loop inside a manual region runs as written on each device's shard, with a state that is
// manual throughout or that holds a replicated counter beside the manual array (each leaf kept
// as it is, and a replicated scalar entering the manual region).
TEST(ManualRegions, LoopsInsideRunAsWritten) {
  for (bool mixed : {false, true}) {
    SCOPED_TRACE(mixed ? "mixed state" : "manual state");
    const std::string counter = mixed ? "{replicated}" : "{manual}";
    const std::string manual = HalvingLoop("4", mixed) + R"(ENTRY e {
  x = f32[8,8] parameter(0), sharding={devices=[2,1]0,1}
  m = f32[4,8] custom-call(x), custom_call_target="SPMDFullToShardShape", sharding={manual}
  z = s32[] constant(0), sharding=C
  t = (s32[], f32[4,8]) tuple(z, m), sharding={C, {manual}}
  w = (s32[], f32[4,8]) while(t), condition=cond, body=body, sharding={C, {manual}}
  r = f32[4,8] get-tuple-element(w), index=1, sharding={manual}
  ROOT y = f32[8,8] custom-call(r), custom_call_target="SPMDShardToFullShape", sharding={devices=[2,1]0,1}
})";
    std::string text = manual;
    for (size_t at = text.find("=C"); at != std::string::npos; at = text.find("=C")) text.replace(at + 1, 1, counter);
    for (size_t at = text.find("{C,"); at != std::string::npos; at = text.find("{C,")) text.replace(at + 1, 1, counter);
    ExpectMatchesWhole(CompileText(text, OnMesh("x=2")), HalvingLoop("8", false) + kHalvingWhole, Counts{});
  }
}

// A partially manual region on a data=2 x model=2 mesh: each model group takes its own block
// of columns (SPMDFullToShardShape), sums it over the rows that data splits — one all-reduce
// inside each group, never across — and the groups' sums join into the full row
// (SPMDShardToFullShape). Each group works on different data, so a step that mixed the groups
// would give wrong columns.
TEST(ManualRegions, PartiallyManualGroupsPartitionTheirOwnData) {
  const std::string partial = R"(HloModule m
add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT s = f32[] add(a, b)
}
ENTRY e {
  x = f32[8,6] parameter(0), sharding={devices=[2,2]<=[4]}
  m = f32[8,3] custom-call(x), custom_call_target="SPMDFullToShardShape", sharding={devices=[2,1,2]<=[4] last_tile_dims={manual}}
  e = f32[8,3] exponential(m), sharding={devices=[2,1,2]<=[4] last_tile_dims={manual}}
  z = f32[] constant(0), sharding={replicated}
  r = f32[3] reduce(e, z), dimensions={0}, to_apply=add, sharding={devices=[1,2,2]<=[2,2]T(1,0) last_tile_dims={manual, replicated}}
  ROOT y = f32[6] custom-call(r), custom_call_target="SPMDShardToFullShape", sharding={devices=[2,2]<=[2,2]T(1,0) last_tile_dim_replicate}
})";
  const std::string whole = R"(HloModule m
add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT s = f32[] add(a, b)
}
ENTRY e {
  x = f32[8,6] parameter(0)
  e = f32[8,6] exponential(x)
  z = f32[] constant(0)
  ROOT y = f32[6] reduce(e, z), dimensions={0}, to_apply=add
})";
  const CompileOptions options = OnMesh("data=2,model=2");
  auto p = CompileText(partial, options);
  ExpectMatchesWhole(p, whole, Counts{{"all-reduce", 1}});
  ASSERT_TRUE(p.ok());
  EXPECT_THAT(PrintModule(*p->device), ::testing::HasSubstr("replica_groups={{0,2},{1,3}}"));

  // A sharding inside the region that splits the array over every device would mix groups.
  std::string mixing = partial;
  const std::string copy = "  e = f32[8,3] exponential(m), sharding={devices=[2,1,2]<=[4] last_tile_dims={manual}}\n";
  mixing.replace(mixing.find(copy), copy.size(), copy + "  c = f32[8,3] copy(e), sharding={devices=[4,1]<=[4]}\n");
  mixing.replace(mixing.find("reduce(e, z)"), 12, "reduce(c, z)");
  auto refused = CompileText(mixing, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(refused.status().message(), ::testing::HasSubstr("c: partitioning it would split an array across the manual groups"));

  // Entering the region with blocks that do not match the groups is an error, not a wrong result.
  std::string crossed = partial;
  crossed.replace(crossed.find("sharding={devices=[2,2]<=[4]}"), 29, "sharding={devices=[2,2]<=[2,2]T(1,0)}");
  auto bad = CompileText(crossed, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("m: the operand's sharding"));
  std::string unannotated = partial;
  unannotated.replace(unannotated.find(", sharding={devices=[2,2]<=[4]}"), 31, "");
  auto whole_blocks = CompileText(unannotated, options);
  ASSERT_FALSE(whole_blocks.ok());
  EXPECT_THAT(whole_blocks.status().message(), ::testing::HasSubstr("m: the operand's sharding {replicated} does not cut"));
}

// A tuple may hold a manual value beside an automatic one; each element comes out as it went in.
TEST(ManualRegions, TuplesMixManualAndAutomaticLeaves) {
  const std::string mixed = R"(HloModule m
ENTRY e {
  x = f32[8,2] parameter(0), sharding={devices=[2,1]<=[2]}
  m = f32[4,2] custom-call(x), custom_call_target="SPMDFullToShardShape", sharding={manual}
  t = (f32[4,2], f32[8,2]) tuple(m, x), sharding={{manual}, {devices=[2,1]<=[2]}}
  a = f32[4,2] get-tuple-element(t), index=0, sharding={manual}
  b = f32[8,2] get-tuple-element(t), index=1, sharding={devices=[2,1]<=[2]}
  a2 = f32[4,2] add(a, a), sharding={manual}
  f = f32[8,2] custom-call(a2), custom_call_target="SPMDShardToFullShape", sharding={devices=[2,1]<=[2]}
  ROOT y = f32[8,2] multiply(f, b), sharding={devices=[2,1]<=[2]}
})";
  const std::string whole = R"(HloModule m
ENTRY e {
  x = f32[8,2] parameter(0)
  a2 = f32[8,2] add(x, x)
  ROOT y = f32[8,2] multiply(a2, x)
})";
  ExpectMatchesWhole(CompileText(mixed, OnMesh("x=2")), whole, Counts{});
}

// Regions nested in one another (XLA's NestedManual): a fully manual region joins into a
// partially manual one of four groups, those join pairwise into one of two groups, and those
// into the automatic array — every step moving no data, and the elements back in place.
TEST(ManualRegions, NestedRegionsJoinGroupsInPlace) {
  const std::string nested = R"(HloModule m
ENTRY e {
  p = s32[16,16,16] parameter(0), sharding={devices=[2,2,2]<=[8]}
  m0 = s32[8,8,8] custom-call(p), custom_call_target="SPMDFullToShardShape", sharding={manual}
  m1 = s32[16,8,8] custom-call(m0), custom_call_target="SPMDShardToFullShape", sharding={devices=[2,1,1,4]<=[8] last_tile_dims={manual}}
  d1 = s32[16,8,8] add(m1, m1), sharding={devices=[2,1,1,4]<=[8] last_tile_dims={manual}}
  m2 = s32[16,16,8] custom-call(d1), custom_call_target="SPMDShardToFullShape", sharding={devices=[2,2,1,2]<=[8] last_tile_dims={manual}}
  ROOT out = s32[16,16,16] custom-call(m2), custom_call_target="SPMDShardToFullShape", sharding={devices=[2,2,2]<=[8]}
})";
  const std::string whole = R"(HloModule m
ENTRY e {
  p = s32[16,16,16] parameter(0)
  ROOT d = s32[16,16,16] add(p, p)
})";
  const CompileOptions options = OnMesh("x=8");
  ExpectMatchesWhole(CompileText(nested, options), whole, Counts{});

  // Two-group blocks laid out other than where the automatic array has those tiles: refused
  // where they would join, instead of a result with its elements moved.
  std::string crossed = nested;
  const std::string outer = "sharding={devices=[2,2,1,2]<=[8] last_tile_dims={manual}}";
  crossed.replace(crossed.find(outer), outer.size(), "sharding={devices=[2,2,1,2]<=[2,2,2]T(0,2,1) last_tile_dims={manual}}");
  auto bad = CompileText(crossed, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("out: sharding {devices=[2,2,2]<=[8]} does not join the manual groups'"));
}

// Small and sure to finish on random inputs: no loops, no custom calls, few elements.
bool QuickToRun(const Module& m) {
  int64_t elements = 0;
  for (const auto& c : m.computations)
    for (const auto& in : c->instructions) {
      // Collectives in a global program mean nothing until it is partitioned.
      if (in->opcode == Opcode::kWhile || in->opcode == Opcode::kCustomCall || in->opcode == Opcode::kRngBitGenerator ||
          IsCollective(in->opcode) || in->opcode == Opcode::kPartitionId)
        return false;
      elements += in->shape.IsArray() ? in->shape.ElementCount() : 0;
    }
  return elements < (1 << 20);
}

// Every corpus module with at most 8 devices that pjit reads partitions and verifies; where
// it is small and loop-free, the partitioned program gives what the global program gives.
TEST(Corpus, XlaModulesPartitionAndMatch) {
  std::filesystem::path corpus(PJIT_CORPUS_DIR);
  if (!std::filesystem::exists(corpus / "xla")) GTEST_SKIP() << "no conformance corpus at " << corpus;
  int read = 0, partitioned = 0, checked = 0;
  std::map<std::string, int> unsupported;
  for (const char* dir : {"spmd", "propagation"}) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(corpus / "xla" / dir)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
      StatusOr<std::string> text = ReadFileToString(path.string());
      auto m = ParseHloModule(*text, path.string());
      if (!m.ok() || !VerifyModule(**m).ok() || testing::DevicesNamed(**m) > 8) continue;
      ++read;
      CompileOptions options;
      options.input = path.string();
      // Devices named only by maximal shardings are given as the mesh (XLA's harness does).
      if (testing::DevicesNamed(**m) > DevicesImplied(**m)) options.mesh = "x=" + std::to_string(testing::DevicesNamed(**m));
      StatusOr<CompiledProgram> p = CompileText(*text, options);
      if (!p.ok()) {  // a feature not supported yet, or shardings XLA's partitioner refuses too
        EXPECT_TRUE(p.status().code() == StatusCode::kUnimplemented || p.status().code() == StatusCode::kInvalidArgument)
            << p.status().message();
        std::string what = p.status().message();
        ++unsupported[what.substr(what.find(": ", what.find(": ") + 2) + 2, 40)];
        continue;
      }
      ++partitioned;
      if (!QuickToRun(**m)) continue;
      bool global_ran = false;
      ::testing::AssertionResult same = SameResults("", **m, *p, &global_ran);
      if (!global_ran) continue;  // the interpreter cannot run it (custom calls, ...)
      EXPECT_TRUE(same) << path;
      ++checked;
    }
  }
  std::cout << "corpus: " << partitioned << " of " << read << " modules partitioned, " << checked << " checked numerically\n";
  for (const auto& [what, count] : unsupported) std::cout << "  " << count << " x " << what << "\n";
  EXPECT_GE(partitioned, 665);
  EXPECT_GE(checked, 400);
}

}  // namespace
}  // namespace pjit
