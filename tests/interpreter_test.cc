#include "run/interpreter/evaluator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "format/npy.h"
#include "format/verifier.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

using testing::AllClose;
using testing::ParseOrDie;

// Tolerances against JAX's CPU results: rounding differs in accumulation order and in libm.
void Tolerance(DType t, double* rtol, double* atol) {
  switch (t) {
    case DType::kBF16: *rtol = 2e-2, *atol = 2e-2; break;
    case DType::kF16: *rtol = 2e-3, *atol = 2e-3; break;
    default: *rtol = 2e-5, *atol = 2e-5;
  }
}

class JaxGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(JaxGoldenTest, MatchesJax) {
  const std::string& name = GetParam();
  auto m = ParseHloFile(testing::TestdataPath(name + ".hlo"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_TRUE(VerifyModule(**m).ok());
  std::vector<Literal> args;
  for (size_t i = 0; i < (*m)->entry->parameters.size(); ++i) {
    auto a = ReadNpy(testing::TestdataPath(name + ".in" + std::to_string(i) + ".npy"));
    ASSERT_TRUE(a.ok()) << a.status().message();
    args.push_back(std::move(*a));
  }
  auto result = EvaluateModule(**m, args);
  ASSERT_TRUE(result.ok()) << result.status().message();
  std::vector<Literal> outs = FlattenResult(std::move(*result));
  for (size_t j = 0;; ++j) {
    std::string golden = testing::TestdataPath(name + ".out" + std::to_string(j) + ".npy");
    if (!std::filesystem::exists(golden)) {
      EXPECT_EQ(j, outs.size()) << "JAX produced " << j << " outputs";
      break;
    }
    ASSERT_LT(j, outs.size());
    auto want = ReadNpy(golden);
    ASSERT_TRUE(want.ok());
    double rtol, atol;
    Tolerance(want->shape().dtype, &rtol, &atol);
    EXPECT_TRUE(AllClose(outs[j], *want, rtol, atol)) << "output " << j;
  }
}

INSTANTIATE_TEST_SUITE_P(Interpreter, JaxGoldenTest, ::testing::ValuesIn(testing::TestdataModules()));

Literal Eval(std::string_view text, std::vector<Literal> args = {}) {
  auto m = ParseOrDie(text);
  EXPECT_TRUE(VerifyModule(*m).ok());
  auto r = EvaluateModule(*m, args);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(*r) : Literal();
}

// XLA's specified integer edge cases (operation semantics): x/0 = -1, INT_MIN/-1 = INT_MIN,
// x%0 = x, shifts by the width or more give 0 (logical) or the sign (arithmetic).
TEST(Interpreter, IntegerEdgeCases) {
  Literal r = Eval(R"(HloModule m
ENTRY e {
  a = s32[4] constant({7, -2147483648, 5, -9})
  b = s32[4] constant({0, -1, 0, 40})
  d = s32[4] divide(a, b)
  r = s32[4] remainder(a, b)
  l = s32[4] shift-right-logical(a, b)
  s = s32[4] shift-right-arithmetic(a, b)
  ROOT t = (s32[4], s32[4], s32[4], s32[4]) tuple(d, r, l, s)
})");
  auto v = [&](int e, int i) { return r.elements()[e].Get<int32_t>(i); };
  EXPECT_EQ(v(0, 0), -1);
  EXPECT_EQ(v(0, 1), -2147483647 - 1);
  EXPECT_EQ(v(1, 0), 7);
  EXPECT_EQ(v(1, 1), 0);
  EXPECT_EQ(v(2, 3), 0);
  EXPECT_EQ(v(3, 3), -1);
}

// A bitcast reads its operand's bytes in memory order (the layout's, row-major without one)
// as its result's memory order: numpy's x.T.ravel() for a column-major [2,3], its transpose
// for a row-major [3,2], and x.T.ravel().reshape(2,3).T for a column-major [3,2].
TEST(Interpreter, BitcastFollowsLayouts) {
  Literal r = Eval(R"(HloModule m
ENTRY e {
  x = f32[2,3]{1,0} constant({{0, 1, 2}, {3, 4, 5}})
  y = f32[2,3]{0,1} copy(x)
  flat = f32[6]{0} bitcast(y)
  t = f32[3,2]{1,0} bitcast(y)
  c = f32[3,2]{0,1} bitcast(y)
  rows = f32[3,2]{1,0} bitcast(x)
  ROOT r = (f32[6], f32[3,2], f32[3,2], f32[3,2]) tuple(flat, t, c, rows)
})");
  auto values = [&](int e) {
    std::vector<float> v;
    for (int64_t i = 0; i < r.elements()[e].element_count(); ++i) v.push_back(r.elements()[e].Get<float>(i));
    return v;
  };
  EXPECT_THAT(values(0), ::testing::ElementsAre(0, 3, 1, 4, 2, 5));
  EXPECT_THAT(values(1), ::testing::ElementsAre(0, 3, 1, 4, 2, 5));
  EXPECT_THAT(values(2), ::testing::ElementsAre(0, 4, 3, 2, 1, 5));
  EXPECT_THAT(values(3), ::testing::ElementsAre(0, 1, 2, 3, 4, 5));
}

// float → int conversion saturates and maps NaN to 0; f32 → bf16 rounds to nearest even.
TEST(Interpreter, ConversionRules) {
  Literal r = Eval(R"(HloModule m
ENTRY e {
  f = f32[4] constant({3e9, -3e9, nan, -2.7})
  i = s32[4] convert(f)
  g = f32[3] constant({1.00390625, 1.01171875, 65520})
  b = bf16[3] convert(g)
  h = f16[3] convert(g)
  ROOT t = (s32[4], bf16[3], f16[3]) tuple(i, b, h)
})");
  EXPECT_EQ(r.elements()[0].Get<int32_t>(0), 2147483647);
  EXPECT_EQ(r.elements()[0].Get<int32_t>(1), -2147483647 - 1);
  EXPECT_EQ(r.elements()[0].Get<int32_t>(2), 0);
  EXPECT_EQ(r.elements()[0].Get<int32_t>(3), -2);
  // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties to even gives 1.
  EXPECT_EQ(r.elements()[1].GetAsDouble(0), 1.0);
  // 1 + 2^-7 + 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties to even gives 1 + 2^-6.
  EXPECT_EQ(r.elements()[1].GetAsDouble(1), 1.015625);
  // 65520 is halfway between f16's largest finite (65504) and the next step: rounds to inf.
  EXPECT_TRUE(std::isinf(r.elements()[2].GetAsDouble(2)));
}

TEST(Interpreter, TotalOrderComparison) {
  Literal r = Eval(R"(HloModule m
ENTRY e {
  a = f32[3] constant({-0, nan, -inf})
  b = f32[3] constant({0, 1, -1})
  ROOT c = pred[3] compare(a, b), direction=LT, type=TOTALORDER
})");
  EXPECT_TRUE(r.Get<bool>(0));   // -0 < +0 in total order
  EXPECT_FALSE(r.Get<bool>(1));  // +NaN sorts above everything
  EXPECT_TRUE(r.Get<bool>(2));
}

// maximum and minimum are IEEE 754-2019's: NaN-propagating and -0 < +0 whichever operand comes
// first, so that a reduction's result does not depend on its order.
TEST(Interpreter, MaximumAndMinimumOrderSignedZeros) {
  Literal r = Eval(R"(HloModule m
ENTRY e {
  a = f32[3] constant({-0, 0, nan})
  b = f32[3] constant({0, -0, 1})
  mx = f32[3] maximum(a, b)
  mn = f32[3] minimum(a, b)
  ROOT t = (f32[3], f32[3]) tuple(mx, mn)
})");
  const Literal& mx = r.elements()[0];
  const Literal& mn = r.elements()[1];
  EXPECT_FALSE(std::signbit(mx.GetAsDouble(0)));
  EXPECT_FALSE(std::signbit(mx.GetAsDouble(1)));
  EXPECT_TRUE(std::signbit(mn.GetAsDouble(0)));
  EXPECT_TRUE(std::signbit(mn.GetAsDouble(1)));
  EXPECT_TRUE(std::isnan(mx.GetAsDouble(2)));
  EXPECT_TRUE(std::isnan(mn.GetAsDouble(2)));
}

// XLA's legacy packed form: the start indices as one vector; starts are clamped so the slice fits.
TEST(Interpreter, PackedStartIndices) {
  Literal r = Eval(R"(HloModule m
ENTRY e {
  a = s32[3,4] constant({{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}})
  i = s32[2] constant({1, 3})
  s = s32[2,2] dynamic-slice(a, i), dynamic_slice_sizes={2,2}
  u = s32[1,1] constant({{-1}})
  d = s32[3,4] dynamic-update-slice(a, u, i)
  ROOT t = (s32[2,2], s32[3,4]) tuple(s, d)
})");
  // The column start 3 is clamped to 2 for a 2-wide slice of 4 columns.
  std::vector<int32_t> slice(r.elements()[0].data<int32_t>(), r.elements()[0].data<int32_t>() + 4);
  EXPECT_EQ(slice, (std::vector<int32_t>{6, 7, 10, 11}));
  EXPECT_EQ(r.elements()[1].Get<int32_t>(7), -1) << "the 1x1 update lands at (1, 3)";
  EXPECT_EQ(r.elements()[1].Get<int32_t>(6), 6);
}

TEST(Interpreter, ArgumentShapeMismatchIsAnError) {
  auto m = ParseOrDie("HloModule m\nENTRY e {\n  ROOT p = f32[2] parameter(0)\n}");
  auto r = EvaluateModule(*m, {Literal(Shape::Array(DType::kF32, {3}))});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("argument 0 (p) is f32[3], expected f32[2]"));
}

}  // namespace
}  // namespace pjit
