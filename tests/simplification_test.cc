// The device-program clean-up passes: constant folding, exact algebraic rewrites, common
// subexpressions and dead code. Each rewrite is checked against the interpreter on the program before it, bit
// for bit, with inputs that include -0, infinities and NaN; rewrites that would not be exact
// (x + 0.0 turns -0 into +0, x * 0 is not 0 for NaN) must not happen.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "compile/algebraic_simplifier.h"
#include "compile/common_subexpressions.h"
#include "compile/constant_folding.h"
#include "compile/convolution_to_dot.h"
#include "compile/dead_code_elimination.h"
#include "compile/thunk_lowering.h"
#include "format/verifier.h"
#include "run/interpreter/evaluator.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

std::vector<std::string> Names(const Computation& c) {
  std::vector<std::string> n;
  for (const auto& in : c.instructions) n.push_back(in->name);
  return n;
}

Literal Inputs(const Shape& shape, uint32_t seed) {
  Literal l(shape);
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 3.0);
  const double special[] = {-0.0, 0.0, std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                            std::numeric_limits<double>::quiet_NaN(), 1.0, -1.0};
  for (int64_t i = 0; i < l.element_count(); ++i) {
    double v = i < 7 ? special[i] : normal(rng);
    l.SetFromDouble(i, IsFloating(shape.dtype) ? v : std::round(std::isfinite(v) ? v : 5.0));
  }
  return l;
}

// Simplifies `text` and returns the instructions left; the result must equal the original's bits.
std::vector<std::string> SimplifyAndCheck(const std::string& text) {
  auto before = testing::ParseOrDie(text);
  auto after = testing::ParseOrDie(text);
  if (!before || !after) return {"(parse error)"};
  FoldConstants(*after->entry);
  SimplifyAlgebra(*after->entry);
  EliminateCommonSubexpressions(*after->entry);
  EliminateDeadCode(*after->entry);
  Status verified = VerifyModule(*after);
  EXPECT_TRUE(verified.ok()) << verified.message();
  std::vector<Literal> inputs;
  for (const Instruction* p : before->entry->parameters) inputs.push_back(Inputs(p->shape, static_cast<uint32_t>(inputs.size() + 1)));
  auto want = EvaluateModule(*before, inputs);
  auto got = EvaluateModule(*after, inputs);
  EXPECT_TRUE(want.ok() && got.ok());
  if (want.ok() && got.ok()) {
    EXPECT_TRUE(*want == *got) << "got " << got->ToString() << "\nwant " << want->ToString();
  }
  return Names(*after->entry);
}

// Elementwise ops on constants become constants with the interpreter's bits (exp, integer
// division by zero, a bfloat16 rounding, NaN compares, select, clamp with scalar bounds);
// what reads a parameter stays.
TEST(ConstantFolding, ElementwiseOpsOnConstantsBecomeTheirValues) {
  EXPECT_THAT(SimplifyAndCheck(R"(HloModule m
ENTRY e {
  p = f32[4] parameter(0)
  a = f32[4] constant({0.5, -1, 88.5, nan})
  e = f32[4] exponential(a)
  i = s32[4] constant({7, -8, 1, 0})
  z = s32[4] constant({0, -1, 3, 0})
  q = s32[4] divide(i, z)
  qf = f32[4] convert(q)
  b = bf16[4] convert(e)
  bf = f32[4] convert(b)
  lt = pred[4] compare(a, bf), direction=LT
  s = f32[4] select(lt, qf, bf)
  lo = f32[] constant(-3)
  hi = f32[] constant(4)
  c = f32[4] clamp(lo, s, hi)
  ROOT r = f32[4] add(p, c)
})"),
              ::testing::ElementsAre("p", "c", "r"));
}

TEST(AlgebraicSimplifier, ExactRewritesOnly) {
  // x + (-0.0), x - 0, x * 1, 1 * x, x / 1 and -(-x) are x; x + 0.0, x - (-0.0) and x * 0 stay.
  EXPECT_THAT(SimplifyAndCheck(R"(HloModule m
ENTRY e {
  x = f32[7] parameter(0)
  nz = f32[] constant(-0)
  bnz = f32[7] broadcast(nz), dimensions={}
  a = f32[7] add(x, bnz)
  z = f32[] constant(0)
  bz = f32[7] broadcast(z), dimensions={}
  s = f32[7] subtract(a, bz)
  one = f32[] constant(1)
  b1 = f32[7] broadcast(one), dimensions={}
  m = f32[7] multiply(b1, s)
  d = f32[7] divide(m, b1)
  n1 = f32[7] negate(d)
  ROOT n2 = f32[7] negate(n1)
})"), ::testing::ElementsAre("x"));
  EXPECT_THAT(SimplifyAndCheck(R"(HloModule m
ENTRY e {
  x = f32[7] parameter(0)
  z = f32[] constant(0)
  bz = f32[7] broadcast(z), dimensions={}
  a = f32[7] add(x, bz)
  nz = f32[] constant(-0)
  bnz = f32[7] broadcast(nz), dimensions={}
  s = f32[7] subtract(a, bnz)
  ROOT m = f32[7] multiply(s, bz)
})"), ::testing::ElementsAre("x", "z", "bz", "a", "nz", "bnz", "s", "m"));
  EXPECT_THAT(SimplifyAndCheck(R"(HloModule m
ENTRY e {
  x = s32[7] parameter(0)
  z = s32[] constant(0)
  bz = s32[7] broadcast(z), dimensions={}
  ROOT a = s32[7] add(bz, x)
})"), ::testing::ElementsAre("x"));
}

TEST(AlgebraicSimplifier, OpsThatDoNothingAndReshapeChains) {
  EXPECT_THAT(SimplifyAndCheck(R"(HloModule m
ENTRY e {
  x = f32[2,3] parameter(0)
  t = f32[2,3] transpose(x), dimensions={0,1}
  b = f32[2,3] broadcast(t), dimensions={0,1}
  c = f32[2,3] convert(b)
  cp = f32[2,3] copy(c)
  s = f32[2,3] slice(cp), slice={[0:2], [0:3]}
  z = f32[] constant(0)
  p = f32[2,3] pad(s, z), padding=0_0x0_0
  cc = f32[2,3] concatenate(p), dimensions={1}
  rv = f32[2,3] reverse(cc), dimensions={}
  r1 = f32[6] reshape(rv)
  r2 = f32[3,2] reshape(r1)
  ROOT r3 = f32[2,3] reshape(r2)
})"), ::testing::ElementsAre("x"));
  // Ops that move elements stay: a real transpose, a strided slice, a reversal.
  EXPECT_THAT(SimplifyAndCheck(R"(HloModule m
ENTRY e {
  x = f32[2,3] parameter(0)
  t = f32[3,2] transpose(x), dimensions={1,0}
  s = f32[2,2] slice(t), slice={[0:3:2], [0:2]}
  ROOT rv = f32[2,2] reverse(s), dimensions={0}
})"), ::testing::ElementsAre("x", "t", "s", "rv"));
}

TEST(CommonSubexpressions, IdenticalComputationsMergeOthersStay) {
  EXPECT_THAT(SimplifyAndCheck(R"(HloModule m
ENTRY e {
  x = f32[4,3] parameter(0)
  y = f32[3] parameter(1)
  b1 = f32[4,3] broadcast(y), dimensions={1}
  b2 = f32[4,3] broadcast(y), dimensions={1}
  e1 = f32[4,3] exponential(x)
  e2 = f32[4,3] exponential(x)
  a1 = f32[4,3] add(e1, b1)
  a2 = f32[4,3] add(e2, b2)
  ROOT m = f32[4,3] multiply(a1, a2)
})"), ::testing::ElementsAre("x", "y", "b1", "e1", "a1", "m"));
  // Different attributes, different computations.
  EXPECT_THAT(SimplifyAndCheck(R"(HloModule m
ENTRY e {
  x = f32[3,3] parameter(0)
  t1 = f32[3,3] transpose(x), dimensions={1,0}
  t2 = f32[3,3] transpose(x), dimensions={0,1}
  c1 = pred[3,3] compare(x, t1), direction=LT
  c2 = pred[3,3] compare(x, t1), direction=GT
  ROOT o = pred[3,3] and(c1, c2)
})"), ::testing::ElementsAre("x", "t1", "c1", "c2", "o"));
}

// Dot-like convolutions (1x1, unstrided, unpadded, ungrouped; or with no spatial dims) become
// dots that lower to gemm thunks, in every layout (the input's feature dim moved last and the
// product moved into the output's order by transposes where needed), and match the
// convolution within f32 rounding; every other convolution stays.
TEST(ConvolutionToDot, DotLikeConvolutionsBecomeGemms) {
  const char* text = R"(HloModule m
ENTRY e {
  x = f32[2,5,6,8] parameter(0)
  k = f32[1,1,8,3] parameter(1)
  nchw = f32[2,8,5,6] parameter(2)
  koi = f32[3,8,1,1] parameter(3)
  v = f32[4,8] parameter(4)
  kv = f32[8,3] parameter(5)
  nhwc = f32[2,5,6,3] convolution(x, k), window={size=1x1}, dim_labels=b01f_01io->b01f
  bf01 = f32[2,3,5,6] convolution(nchw, koi), window={size=1x1}, dim_labels=bf01_oi01->bf01
  mixed = f32[3,6,2,5] convolution(x, koi), window={size=1x1}, dim_labels=b01f_oi01->f1b0
  flat = f32[4,3] convolution(v, kv), dim_labels=bf_io->bf
  k3 = f32[3,3,8,3] parameter(6)
  wide = f32[2,5,6,3] convolution(x, k3), window={size=3x3 pad=1_1x1_1}, dim_labels=b01f_01io->b01f
  strided = f32[2,3,3,3] convolution(x, k), window={size=1x1 stride=2x2}, dim_labels=b01f_01io->b01f
  ROOT t = (f32[2,5,6,3], f32[2,3,5,6], f32[3,6,2,5], f32[4,3], f32[2,5,6,3], f32[2,3,3,3]) tuple(nhwc, bf01, mixed, flat, wide, strided)
})";
  auto before = testing::ParseOrDie(text);
  auto after = testing::ParseOrDie(text);
  ASSERT_NE(before, nullptr);
  EXPECT_EQ(RewriteDotLikeConvolutions(*after->entry), 4);
  EliminateDeadCode(*after->entry);
  Status verified = VerifyModule(*after);
  ASSERT_TRUE(verified.ok()) << verified.message();
  int convolutions = 0;
  for (const auto& in : after->entry->instructions) convolutions += in->opcode == Opcode::kConvolution;
  EXPECT_EQ(convolutions, 2) << "the 3x3 and the strided convolution stay";
  auto plan = LowerToThunks(*after);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  int gemms = 0;
  for (const Thunk& t : plan->sequences[0].thunks) gemms += std::holds_alternative<GemmThunk>(t);
  EXPECT_EQ(gemms, 4);
  std::vector<Literal> inputs = testing::RandomInputs(*before, 11);
  auto want = EvaluateModule(*before, inputs);
  auto got = EvaluateModule(*after, inputs);
  ASSERT_TRUE(want.ok() && got.ok());
  for (size_t o = 0; o < want->elements().size(); ++o)
    EXPECT_TRUE(testing::AllClose(got->elements()[o], want->elements()[o], 1e-5, 1e-6)) << "output " << o;
}

TEST(DeadCodeElimination, KeepsParametersRootAndSideEffects) {
  auto m = testing::ParseOrDie(R"(HloModule m
ENTRY e {
  x = f32[4] parameter(0)
  unused = f32[4] parameter(1)
  dead = f32[4] exponential(x)
  dead2 = f32[4] add(dead, x)
  log = () custom-call(x), custom_call_target="log_it", custom_call_has_side_effect=true
  ROOT n = f32[4] negate(x)
})");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(EliminateDeadCode(*m->entry), 2);
  EXPECT_THAT(Names(*m->entry), ::testing::ElementsAre("x", "unused", "log", "n"));
}

}  // namespace
}  // namespace pjit
