// Sharding propagation, case by case, from GSPMD's documented behaviour (XLA's
// sharding_propagation and the GSPMD paper): each case asserts the shardings of named
// instructions, written as PartitionSpecs on the case's mesh where one exists.
#include "compile/sharding_propagation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "compile/call_inliner.h"
#include "compile/sharding_util.h"
#include "format/partition_spec.h"
#include "format/verifier.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

using ::testing::HasSubstr;
using Origin = ShardingProvenance::Origin;

struct Propagated {
  std::unique_ptr<Module> module;
  Mesh mesh;
  PropagationReport report;

  const Instruction& operator[](const std::string& name) const {
    const Instruction* in = module->entry->Find(name);
    EXPECT_NE(in, nullptr) << name;
    return *in;
  }
  // The instruction's sharding as a PartitionSpec on the mesh ("" when replicated).
  std::string Spec(const std::string& name) const {
    const Instruction& in = (*this)[name];
    if (!in.sharding) return "<none>";
    auto spec = ShardingToPartitionSpec(*in.sharding, mesh, in.shape.rank());
    return spec.ok() ? spec->ToString() : "<" + in.sharding->ToString() + ">";
  }
};

Propagated Propagate(const std::string& body, const std::string& mesh = "data=2,model=4") {
  Propagated p;
  auto m = ParseHloModule("HloModule m\n" + body, "test.hlo");
  EXPECT_TRUE(m.ok()) << m.status().message();
  p.module = std::move(*m);
  EXPECT_TRUE(VerifyModule(*p.module).ok());
  EXPECT_TRUE(InlineCalls(*p.module).ok());
  p.mesh = *ParseMesh(mesh);
  auto r = PropagateShardings(*p.module, p.mesh);
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (r.ok()) p.report = *r;
  return p;
}

// Shardings of a 2x4 (data, model) mesh, as XLA spells them.
constexpr const char* kData0 = "{devices=[2,1,4]<=[8] last_tile_dim_replicate}";      // data,_
constexpr const char* kModel1 = "{devices=[1,4,2]<=[2,4]T(1,0) last_tile_dim_replicate}";  // _,model
constexpr const char* kModel0 = "{devices=[4,1,2]<=[2,4]T(1,0) last_tile_dim_replicate}";  // model,_
constexpr const char* kDataModel = "{devices=[2,4]<=[8]}";                              // data,model

std::string Sh(const char* s) { return std::string("sharding=") + s; }

TEST(Propagation, ElementwiseForward) {
  auto p = Propagate("ENTRY e {\n  a = f32[8,16] parameter(0), " + Sh(kData0) +
                     "\n  b = f32[8,16] parameter(1)\n  c = f32[8,16] add(a, b)\n  ROOT d = f32[8,16] exponential(c)\n}");
  EXPECT_EQ(p.Spec("c"), "data");
  EXPECT_EQ(p.Spec("d"), "data");
  EXPECT_EQ(p.Spec("b"), "data") << "backward from the add";
  EXPECT_EQ(p["c"].sharding_provenance.origin, Origin::kForward);
  EXPECT_EQ(p["c"].sharding_provenance.from, "a");
  EXPECT_EQ(p["c"].sharding_provenance.operand, 0);
  EXPECT_EQ(p["b"].sharding_provenance.origin, Origin::kBackward);
  EXPECT_EQ(p["b"].sharding_provenance.from, "c");
}

TEST(Propagation, ElementwiseBackwardFromAnnotatedRoot) {
  auto p = Propagate("ENTRY e {\n  a = f32[8,16] parameter(0)\n  b = f32[8,16] negate(a)\n  ROOT c = f32[8,16] tanh(b), " +
                     Sh(kModel1) + "\n}");
  EXPECT_EQ(p.Spec("b"), "_,model");
  EXPECT_EQ(p.Spec("a"), "_,model");
  EXPECT_EQ(p["c"].sharding_provenance.origin, Origin::kAnnotation);
}

TEST(Propagation, AnnotationsAreNeverOverwritten) {
  auto p = Propagate("ENTRY e {\n  a = f32[8,16] parameter(0), " + Sh(kDataModel) +
                     "\n  b = f32[8,16] parameter(1), sharding={replicated}\n  ROOT c = f32[8,16] add(a, b)\n}");
  EXPECT_EQ(p.Spec("b"), "");
  EXPECT_EQ(p.Spec("c"), "data,model");
}

TEST(Propagation, MoreSpecificOperandWins) {
  auto p = Propagate("ENTRY e {\n  a = f32[8,16] parameter(0), " + Sh(kData0) + "\n  b = f32[8,16] parameter(1), " +
                     Sh(kDataModel) + "\n  ROOT c = f32[8,16] multiply(a, b)\n}");
  EXPECT_EQ(p.Spec("c"), "data,model");
  EXPECT_EQ(p["c"].sharding_provenance.from, "b");
}

TEST(Propagation, CompatibleOperandsMerge) {
  // a splits rows by data, b columns by model: the add can take both.
  auto p = Propagate("ENTRY e {\n  a = f32[8,16] parameter(0), " + Sh(kData0) + "\n  b = f32[8,16] parameter(1), " +
                     Sh(kModel1) + "\n  ROOT c = f32[8,16] add(a, b)\n}");
  EXPECT_EQ(p.Spec("c"), "data,model");
}

TEST(Propagation, Transpose) {
  auto p = Propagate("ENTRY e {\n  a = f32[8,16,4] parameter(0), sharding={devices=[2,4,1]<=[8]}\n"
                     "  t = f32[4,8,16] transpose(a), dimensions={2,0,1}\n  u = f32[16,4] parameter(1)\n"
                     "  v = f32[4,16] transpose(u), dimensions={1,0}, " + Sh(kModel0) + "\n  ROOT r = (f32[4,8,16], f32[4,16]) tuple(t, v)\n}");
  EXPECT_EQ(p.Spec("t"), "_,data,model");
  EXPECT_EQ(p.Spec("u"), "_,model");
}

TEST(Propagation, BroadcastForwardKeepsOperandTiles) {
  auto p = Propagate("ENTRY e {\n  a = f32[16] parameter(0), sharding={devices=[4,2]<=[2,4]T(1,0) last_tile_dim_replicate}\n"
                     "  ROOT b = f32[8,16] broadcast(a), dimensions={1}\n}");
  EXPECT_EQ(p.Spec("b"), "_,model");
}

TEST(Propagation, BroadcastBackwardReplicatesBroadcastDims) {
  auto p = Propagate("ENTRY e {\n  a = f32[16] parameter(0)\n  ROOT b = f32[8,16] broadcast(a), dimensions={1}, " + Sh(kDataModel) + "\n}");
  EXPECT_EQ(p.Spec("a"), "model");
  EXPECT_EQ(p["a"].sharding->ToString(), "{devices=[4,2]<=[2,4]T(1,0) last_tile_dim_replicate}");
}

TEST(Propagation, BroadcastsComeLast) {
  // c could follow the broadcast of s (unsplit) or b (split by model): at level 0 only the
  // elementwise path runs, so c gets b's sharding before broadcasts are considered.
  auto p = Propagate("ENTRY e {\n  s = f32[16] parameter(0), sharding={devices=[2,4]<=[8] last_tile_dim_replicate}\n"
                     "  x = f32[8,16] broadcast(s), dimensions={1}\n  b = f32[8,16] parameter(1), " + Sh(kModel1) +
                     "\n  ROOT c = f32[8,16] add(x, b)\n}");
  EXPECT_EQ(p.Spec("c"), "_,model");
  EXPECT_EQ(p["c"].sharding_provenance.level, 0);
  EXPECT_EQ(p["c"].sharding_provenance.from, "b");
}

TEST(Propagation, ReduceForwardReplicatesReducedDims) {
  auto p = Propagate("add {\n  x = f32[] parameter(0)\n  y = f32[] parameter(1)\n  ROOT s = f32[] add(x, y)\n}\n"
                     "ENTRY e {\n  a = f32[8,16] parameter(0), " + Sh(kDataModel) + "\n  z = f32[] constant(0)\n"
                     "  ROOT r = f32[8] reduce(a, z), dimensions={1}, to_apply=add\n}");
  EXPECT_EQ(p.Spec("r"), "data");
  EXPECT_EQ(p["r"].sharding->ToString(), "{devices=[2,4]<=[8] last_tile_dim_replicate}");
  EXPECT_EQ(p.Spec("z"), "");
}

// argmax as JAX lowers it: a reduce over (values, indices); the split of one input reaches
// both results and, backward, the other input.
TEST(Propagation, VariadicReduce) {
  auto p = Propagate("argmax {\n  v0 = f32[] parameter(0)\n  i0 = s32[] parameter(1)\n  v1 = f32[] parameter(2)\n  i1 = s32[] parameter(3)\n"
                     "  gt = pred[] compare(v0, v1), direction=GT\n  v = f32[] select(gt, v0, v1)\n  i = s32[] select(gt, i0, i1)\n"
                     "  ROOT t = (f32[], s32[]) tuple(v, i)\n}\nENTRY e {\n  x = f32[8,10] parameter(0)\n  cx = f32[8,10] copy(x)\n"
                     "  idx = s32[8,10] parameter(1), sharding={devices=[2,1,4]<=[8] last_tile_dim_replicate}\n"
                     "  zf = f32[] constant(0)\n  zi = s32[] constant(0)\n"
                     "  r = (f32[8], s32[8]) reduce(cx, idx, zf, zi), dimensions={1}, to_apply=argmax\n"
                     "  ROOT g = s32[8] get-tuple-element(r), index=1\n}");
  EXPECT_EQ(p["r"].sharding->ToString(), "{{devices=[2,4]<=[8] last_tile_dim_replicate}, {devices=[2,4]<=[8] last_tile_dim_replicate}}");
  EXPECT_EQ(p.Spec("cx"), "data") << "backward from the reduce's first result";
  EXPECT_EQ(p.Spec("g"), "data");
}

TEST(Propagation, ReduceBackward) {
  auto p = Propagate("add {\n  x = f32[] parameter(0)\n  y = f32[] parameter(1)\n  ROOT s = f32[] add(x, y)\n}\n"
                     "ENTRY e {\n  a = f32[8,16,4] parameter(0)\n  z = f32[] constant(0)\n"
                     "  ROOT r = f32[8,4] reduce(a, z), dimensions={1}, to_apply=add, " + Sh(kDataModel) + "\n}");
  EXPECT_EQ(p.Spec("a"), "data,_,model");
}

TEST(Propagation, DotDataParallel) {
  auto p = Propagate("ENTRY e {\n  x = f32[16,32] parameter(0), sharding={devices=[8,1]<=[8]}\n"
                     "  w = f32[32,64] parameter(1), sharding={replicated}\n"
                     "  ROOT y = f32[16,64] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}");
  EXPECT_EQ(p.Spec("y"), "(data,model)");
}

TEST(Propagation, DotMegatronFirstLayer) {
  auto p = Propagate("ENTRY e {\n  x = f32[16,32] parameter(0), " + Sh(kData0) + "\n  w = f32[32,64] parameter(1), " +
                     Sh(kModel1) + "\n  ROOT y = f32[16,64] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}");
  EXPECT_EQ(p.Spec("y"), "data,model");
  EXPECT_THAT(p["y"].sharding_provenance.rule, HasSubstr("dot: "));
}

TEST(Propagation, DotContractingSplitGivesReplicatedResult) {
  // Both operands split the contracting dim: the result is a partial sum, replicated over model.
  auto p = Propagate("ENTRY e {\n  x = f32[16,32] parameter(0), " + Sh(kModel1) + "\n  w = f32[32,8] parameter(1), " +
                     Sh(kModel0) + "\n  ROOT y = f32[16,8] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}");
  EXPECT_EQ(p.Spec("y"), "");
}

TEST(Propagation, DotBatchDims) {
  auto p = Propagate("ENTRY e {\n  q = f32[4,8,16] parameter(0), sharding={devices=[2,1,1,4]<=[8] last_tile_dim_replicate}\n"
                     "  k = f32[4,8,16] parameter(1)\n"
                     "  ROOT s = f32[4,8,8] dot(q, k), lhs_batch_dims={0}, lhs_contracting_dims={2}, rhs_batch_dims={0}, rhs_contracting_dims={2}\n}");
  EXPECT_EQ(p.Spec("s"), "data");
  EXPECT_EQ(p.Spec("k"), "data") << "the batch dim flows back to the other operand";
}

TEST(Propagation, DotOperandContractingFollowsTheOtherOperand) {
  // h's columns are the contracting dim of h @ w2; w2 splits its rows by model, so h does too.
  auto p = Propagate("ENTRY e {\n  h = f32[16,64] parameter(0)\n  w2 = f32[64,32] parameter(1), " + Sh(kModel0) +
                     "\n  ROOT y = f32[16,32] dot(h, w2), lhs_contracting_dims={1}, rhs_contracting_dims={0}, " + Sh(kData0) + "\n}");
  EXPECT_EQ(p.Spec("h"), "data,model");
}

TEST(Propagation, ReshapeSplitAndMerge) {
  auto p = Propagate("ENTRY e {\n  a = f32[8,16] parameter(0), " + Sh(kDataModel) + "\n"
                     "  split = f32[8,4,4] reshape(a)\n  merge = f32[128] reshape(a)\n"
                     "  b = f32[2,4,16] parameter(1), sharding={devices=[2,1,1,4]<=[8] last_tile_dim_replicate}\n"
                     "  merged = f32[8,16] reshape(b)\n  ROOT t = (f32[8,4,4], f32[128], f32[8,16]) tuple(split, merge, merged)\n}");
  EXPECT_EQ(p.Spec("split"), "data,model") << "16 splits into 4x4: the major 4 takes the model split";
  EXPECT_EQ(p.Spec("merge"), "data") << "only the major dim of a merge keeps its split";
  EXPECT_EQ(p.Spec("merged"), "data");
}

TEST(Propagation, ReshapeUnitDims) {
  auto p = Propagate("ENTRY e {\n  a = f32[8] parameter(0), sharding={devices=[2,4]<=[8] last_tile_dim_replicate}\n"
                     "  b = f32[1,8,1] reshape(a)\n  ROOT c = f32[8] reshape(b)\n}");
  EXPECT_EQ(p.Spec("b"), "_,data");
  EXPECT_EQ(p.Spec("c"), "data");
}

TEST(Propagation, ConcatenateAndSlice) {
  auto p = Propagate("ENTRY e {\n  a = f32[8,16] parameter(0), " + Sh(kDataModel) + "\n  b = f32[8,16] parameter(1)\n"
                     "  c = f32[8,32] concatenate(a, b), dimensions={1}\n  s = f32[8,8] slice(a), slice={[0:8], [0:8]}\n"
                     "  ROOT t = (f32[8,32], f32[8,8]) tuple(c, s)\n}");
  EXPECT_EQ(p.Spec("c"), "data");
  EXPECT_EQ(p.Spec("s"), "data");
}

TEST(Propagation, ConvolutionBatchSplitFromTheInput) {
  auto p = Propagate("ENTRY e {\n  x = f32[8,16,16,3] parameter(0), sharding={devices=[2,1,1,1,4]<=[8] last_tile_dim_replicate}\n"
                     "  k = f32[3,3,3,32] parameter(1)\n"
                     "  ROOT y = f32[8,16,16,32] convolution(x, k), window={size=3x3 pad=1_1x1_1}, dim_labels=b01f_01io->b01f\n}");
  EXPECT_EQ(p.Spec("y"), "data");
}

TEST(Propagation, ConvolutionFeaturesFromTheKernel) {
  auto p = Propagate("ENTRY e {\n  x = f32[8,16,16,3] parameter(0), sharding={devices=[2,1,1,1,4]<=[8] last_tile_dim_replicate}\n"
                     "  k = f32[3,3,3,32] parameter(1), sharding={devices=[1,1,1,4,2]<=[2,4]T(1,0) last_tile_dim_replicate}\n"
                     "  ROOT y = f32[8,16,16,32] convolution(x, k), window={size=3x3 pad=1_1x1_1}, dim_labels=b01f_01io->b01f\n}");
  EXPECT_EQ(p.Spec("y"), "data,_,_,model") << "batch from the input merged with features from the kernel";
}

TEST(Propagation, ConvolutionBackwardToInputAndKernel) {
  auto p = Propagate("ENTRY e {\n  x = f32[8,3,16,16] parameter(0)\n  k = f32[32,3,3,3] parameter(1)\n"
                     "  ROOT y = f32[8,32,16,16] convolution(x, k), window={size=3x3 pad=1_1x1_1}, dim_labels=bf01_oi01->bf01, " +
                     Sh("{devices=[2,4,1,1]<=[8]}") + "\n}");
  EXPECT_EQ(p.Spec("x"), "data");
  EXPECT_EQ(p.Spec("k"), "model");
}

TEST(Propagation, GatherEmbeddingLookup) {
  // jnp.take(table, ids, axis=0): ids split by data give output rows; a table split on its
  // embedding columns gives output columns.
  auto p = Propagate("ENTRY e {\n  table = f32[50,16] parameter(0), " + Sh(kModel1) + "\n"
                     "  ids = s32[8,7,1] parameter(1), sharding={devices=[2,1,1,4]<=[8] last_tile_dim_replicate}\n"
                     "  ROOT g = f32[8,7,16] gather(table, ids), offset_dims={2}, collapsed_slice_dims={0}, start_index_map={0}, "
                     "index_vector_dim=2, slice_sizes={1,16}\n}");
  EXPECT_EQ(p.Spec("g"), "data,_,model");
}

TEST(Propagation, GatherBackward) {
  auto p = Propagate("ENTRY e {\n  table = f32[50,16] parameter(0)\n  ids = s32[8,7,1] parameter(1)\n"
                     "  ROOT g = f32[8,7,16] gather(table, ids), offset_dims={2}, collapsed_slice_dims={0}, start_index_map={0}, "
                     "index_vector_dim=2, slice_sizes={1,16}, sharding={devices=[2,1,4]<=[8]}\n}");
  EXPECT_EQ(p.Spec("ids"), "data");
  EXPECT_EQ(p.Spec("table"), "_,model");
}

TEST(Propagation, ScatterFollowsItsOperand) {
  auto p = Propagate("add {\n  x = f32[] parameter(0)\n  y = f32[] parameter(1)\n  ROOT s = f32[] add(x, y)\n}\n"
                     "ENTRY e {\n  a = f32[10,16] parameter(0), " + Sh(kModel1) + "\n  i = s32[5,1] parameter(1)\n  u = f32[5,16] parameter(2)\n"
                     "  ROOT s = f32[10,16] scatter(a, i, u), update_window_dims={1}, inserted_window_dims={0}, "
                     "scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add\n}");
  EXPECT_EQ(p.Spec("s"), "_,model");
}

TEST(Propagation, TupleAndGetTupleElement) {
  auto p = Propagate("ENTRY e {\n  a = f32[8,16] parameter(0)\n  b = f32[8] parameter(1)\n  t = (f32[8,16], f32[8]) tuple(a, b)\n"
                     "  g = f32[8,16] get-tuple-element(t), index=0\n  ROOT r = f32[8,16] negate(g), " + Sh(kData0) + "\n}");
  EXPECT_EQ(p.Spec("g"), "data");
  EXPECT_EQ(p.Spec("a"), "data") << "through the tuple, element 0";
  EXPECT_EQ(p["b"].sharding_provenance.origin, Origin::kDefault);
}

TEST(Propagation, ThroughInlinedCalls) {
  auto p = Propagate("relu {\n  x = f32[8,16] parameter(0)\n  z = f32[] constant(0)\n  b = f32[8,16] broadcast(z), dimensions={}\n"
                     "  ROOT m = f32[8,16] maximum(x, b)\n}\nENTRY e {\n  a = f32[8,16] parameter(0), " + Sh(kData0) +
                     "\n  ROOT c = f32[8,16] call(a), to_apply=relu\n}");
  EXPECT_EQ(p.module->computations.size(), 1u) << "relu is inlined and dropped";
  EXPECT_EQ(p.Spec("c.m"), "data");
}

constexpr const char* kLoop = R"(cond {
  s = (s32[], f32[8,16]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  n = s32[] constant(4)
  ROOT lt = pred[] compare(i, n), direction=LT
}
body {
  s = (s32[], f32[8,16]) parameter(0)
  i = s32[] get-tuple-element(s), index=0
  x = f32[8,16] get-tuple-element(s), index=1
  one = s32[] constant(1)
  i2 = s32[] add(i, one)
  y = f32[8,16] tanh(x)
  ROOT t = (s32[], f32[8,16]) tuple(i2, y)
}
)";

const Instruction& In(const Propagated& p, const std::string& computation, const std::string& name) {
  return *p.module->FindComputation(computation)->Find(name);
}

TEST(Propagation, WhileLoopStateForward) {
  auto p = Propagate(std::string(kLoop) + "ENTRY e {\n  a = f32[8,16] parameter(0), " + Sh(kData0) +
                     "\n  z = s32[] constant(0)\n  init = (s32[], f32[8,16]) tuple(z, a)\n"
                     "  w = (s32[], f32[8,16]) while(init), condition=cond, body=body\n  ROOT r = f32[8,16] get-tuple-element(w), index=1\n}");
  EXPECT_EQ(p.Spec("r"), "data");
  EXPECT_EQ(In(p, "body", "y").sharding->ToString(), kData0);
  EXPECT_EQ(In(p, "body", "x").sharding->ToString(), kData0);
  EXPECT_EQ(In(p, "cond", "s").sharding->ToString(), std::string("{{replicated}, ") + kData0 + "}");
  EXPECT_THAT(In(p, "body", "s").sharding_provenance.rule, HasSubstr("while: loop state keeps one sharding"));
}

TEST(Propagation, WhileLoopStateBackward) {
  auto p = Propagate(std::string(kLoop) + "ENTRY e {\n  a = f32[8,16] parameter(0)\n  z = s32[] constant(0)\n"
                     "  init = (s32[], f32[8,16]) tuple(z, a)\n  w = (s32[], f32[8,16]) while(init), condition=cond, body=body\n"
                     "  ROOT r = f32[8,16] get-tuple-element(w), index=1, " + Sh(kModel1) + "\n}");
  EXPECT_EQ(p.Spec("a"), "_,model") << "from the result, through the loop state, to the initial value";
  EXPECT_EQ(In(p, "body", "y").sharding->ToString(), kModel1);
}

TEST(Propagation, WhileBodyAnnotationDecidesTheLoopState) {
  std::string loop = kLoop;
  loop.replace(loop.find("y = f32[8,16] tanh(x)"), 21, std::string("y = f32[8,16] tanh(x), ") + Sh(kDataModel));
  auto p = Propagate(loop + "ENTRY e {\n  a = f32[8,16] parameter(0)\n  z = s32[] constant(0)\n"
                     "  init = (s32[], f32[8,16]) tuple(z, a)\n  w = (s32[], f32[8,16]) while(init), condition=cond, body=body\n"
                     "  ROOT r = f32[8,16] get-tuple-element(w), index=1\n}");
  EXPECT_EQ(p.Spec("a"), "data,model");
  EXPECT_EQ(p.Spec("r"), "data,model");
}

TEST(Propagation, ConditionalBranches) {
  auto p = Propagate("double {\n  x = f32[8,16] parameter(0)\n  ROOT y = f32[8,16] add(x, x)\n}\n"
                     "negate {\n  x = f32[8,16] parameter(0)\n  ROOT y = f32[8,16] negate(x)\n}\n"
                     "ENTRY e {\n  p = pred[] parameter(0)\n  a = f32[8,16] parameter(1), " + Sh(kData0) +
                     "\n  ROOT c = f32[8,16] conditional(p, a, a), true_computation=double, false_computation=negate\n}");
  EXPECT_EQ(In(p, "double", "y").sharding->ToString(), kData0);
  EXPECT_EQ(In(p, "negate", "x").sharding->ToString(), kData0);
  EXPECT_EQ(p.Spec("c"), "data");
}

TEST(Propagation, JaxFoldLoop) {
  // testdata/while_loop.hlo is lax.fori_loop as JAX lowers it; shard its carried array.
  auto m = ParseHloFile(testing::TestdataPath("while_loop.hlo"));
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(InlineCalls(**m).ok());
  Mesh mesh = *ParseMesh("x=4");
  Instruction* carried = (*m)->entry->parameters[0];
  carried->sharding = *PartitionSpecToSharding(*ParsePartitionSpec("_,x"), mesh, 2);
  ASSERT_TRUE(PropagateShardings(**m, mesh).ok());
  int split = 0;
  for (const auto& c : (*m)->computations)
    for (const auto& in : c->instructions)
      if (in->sharding && in->shape.IsArray() && in->shape.dims == carried->shape.dims && NumDataTiles(*in->sharding) == 4) ++split;
  EXPECT_GE(split, 6) << "the carried array stays split inside the body";
}

TEST(Propagation, ManualRegionsStayManual) {
  // shard_map as JAX lowers it: the body between the two custom-calls is manual; outside,
  // shardings propagate normally and do not leak in.
  auto p = Propagate("ENTRY e {\n  a = f32[8,16] parameter(0), " + Sh(kData0) + "\n"
                     "  s = f32[8,16] custom-call(a), custom_call_target=\"Sharding\", " + Sh(kData0) + "\n"
                     "  m = f32[4,16] custom-call(s), custom_call_target=\"SPMDFullToShardShape\", sharding={manual}\n"
                     "  t = f32[4,16] tanh(m)\n  u = f32[4,16] add(t, t)\n"
                     "  f = f32[8,16] custom-call(u), custom_call_target=\"SPMDShardToFullShape\", " + Sh(kData0) + "\n"
                     "  ROOT r = f32[8,16] negate(f)\n}");
  EXPECT_EQ(p["t"].sharding->ToString(), "{manual}");
  EXPECT_EQ(p["u"].sharding->ToString(), "{manual}");
  EXPECT_EQ(p.Spec("r"), "data");
}

TEST(Propagation, AManualOperandWinsOverAReplicatedOne) {
  // An op reading a manual value and a replicated constant is inside the manual region.
  auto p = Propagate("ENTRY e {\n  a = f32[8,16] parameter(0), " + Sh(kData0) + "\n"
                     "  m = f32[4,16] custom-call(a), custom_call_target=\"SPMDFullToShardShape\", sharding={manual}\n"
                     "  c = f32[4,16] constant(0), sharding={replicated}\n  u = f32[4,16] add(c, m)\n"
                     "  ROOT f = f32[8,16] custom-call(u), custom_call_target=\"SPMDShardToFullShape\", " + Sh(kData0) + "\n}");
  EXPECT_EQ(p["u"].sharding->ToString(), "{manual}");
}

TEST(Propagation, ShardAsGroupsShareOneSharding) {
  auto p = Propagate("ENTRY e {\n  a = f32[8,16] parameter(0), " + Sh(kDataModel) + "\n  b = f32[8,16] parameter(1)\n"
                     "  x = f32[8,16] negate(a), sharding={unknown shard_as 1}\n  y = f32[8,16] negate(b), sharding={unknown shard_as 1}\n"
                     "  ROOT r = (f32[8,16], f32[8,16]) tuple(x, y)\n}");
  EXPECT_EQ(p.Spec("x"), "data,model");
  EXPECT_EQ(p.Spec("y"), "data,model") << "y joins x's group";
  EXPECT_EQ(p.Spec("b"), "data,model");
}

TEST(Propagation, MaxPoolKeepsBatchSplit) {
  auto p = Propagate("max {\n  x = f32[] parameter(0)\n  y = f32[] parameter(1)\n  ROOT m = f32[] maximum(x, y)\n}\n"
                     "ENTRY e {\n  a = f32[8,16,16,4] parameter(0), sharding={devices=[2,1,1,1,4]<=[8] last_tile_dim_replicate}\n"
                     "  z = f32[] constant(-inf)\n"
                     "  ROOT p = f32[8,8,8,4] reduce-window(a, z), window={size=1x2x2x1 stride=1x2x2x1}, to_apply=max\n}");
  EXPECT_EQ(p.Spec("p"), "data");
}

TEST(Propagation, UnknownAnnotationsLetPropagationDecide) {
  auto p = Propagate("ENTRY e {\n  a = f32[8,16] parameter(0), " + Sh(kData0) + "\n  ROOT b = f32[8,16] negate(a), sharding={unknown}\n}");
  EXPECT_EQ(p.Spec("b"), "data");
  EXPECT_EQ(p["b"].sharding_provenance.origin, Origin::kForward);
}

TEST(Propagation, UnreachedInstructionsAreReplicatedByDefault) {
  auto p = Propagate("ENTRY e {\n  i = s32[8] iota(), iota_dimension=0\n  ROOT c = s32[8] negate(i)\n}");
  EXPECT_EQ(p.Spec("i"), "");
  EXPECT_EQ(p["i"].sharding_provenance.origin, Origin::kDefault);
}

TEST(Propagation, WarnsAboutUnevenSplitsAndForcedGathers) {
  auto p = Propagate("ENTRY e {\n  a = f32[7,16] parameter(0), " + Sh(kData0) + "\n  ROOT b = f32[7,16] negate(a), sharding={replicated}\n}");
  ASSERT_EQ(p.report.warnings.size(), 2u);
  EXPECT_EQ(p.report.warnings[0], "test.hlo:3:3: a: dimension 0 of size 7 is split 2 ways; shards are padded to 4 (1 padding elements)");
  EXPECT_EQ(p.report.warnings[1], "test.hlo:4:3: b: annotated {replicated} but its operand a is split 2 ways; the whole array is gathered on every device");
}

TEST(Propagation, ShardingsThatDoNotFitTheMeshAreErrors) {
  auto m = ParseHloModule("HloModule m\nENTRY e {\n  ROOT a = f32[8] parameter(0), sharding={devices=[16]<=[16]}\n}", "t.hlo");
  ASSERT_TRUE(m.ok());
  auto r = PropagateShardings(**m, *ParseMesh("data=2,model=4"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("t.hlo:3:3: a: sharding {devices=[16]<=[16]} names device 8 of 8"));
}

// The JAX-lowered transformer block with Megatron shardings: every instruction ends up with
// a sharding, and the attention/MLP dots split the way GSPMD splits them.
TEST(Propagation, JaxTransformerBlock) {
  auto m = ParseHloFile(testing::TestdataPath("transformer_block_sharded.hlo"));
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(InlineCalls(**m).ok());
  ASSERT_TRUE(VerifyModule(**m).ok());
  Mesh mesh = *ParseMesh("data=2,model=4");
  auto r = PropagateShardings(**m, mesh);
  ASSERT_TRUE(r.ok()) << r.status().message();
  int split = 0;
  for (const auto& in : (*m)->entry->instructions) {
    EXPECT_TRUE(in->sharding.has_value()) << in->name;
    if (in->opcode == Opcode::kDot && in->sharding && NumDataTiles(*in->sharding) > 1) ++split;
  }
  EXPECT_GE(split, 6) << "q, k, v, attention and MLP dots are split";
}

// Every corpus module that parses and verifies propagates on the mesh its shardings imply.
TEST(Propagation, XlaCorpus) {
  std::filesystem::path corpus(PJIT_CORPUS_DIR);
  if (!std::filesystem::exists(corpus / "xla")) GTEST_SKIP() << "no conformance corpus at " << corpus;
  int propagated = 0;
  for (const char* dir : {"propagation", "spmd"}) {
    for (const auto& e : std::filesystem::directory_iterator(corpus / "xla" / dir)) {
      auto m = ParseHloFile(e.path().string());
      if (!m.ok() || !VerifyModule(**m).ok() || !InlineCalls(**m).ok()) continue;
      auto r = PropagateShardings(**m, Mesh::Linear(testing::DevicesNamed(**m)));
      EXPECT_TRUE(r.ok()) << e.path() << ": " << r.status().message();
      ++propagated;
    }
  }
  std::cout << "corpus: " << propagated << " modules propagated\n";
  EXPECT_GT(propagated, 600);
}

}  // namespace
}  // namespace pjit
