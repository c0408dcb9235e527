#include "format/verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace pjit {
namespace {

using ::testing::HasSubstr;

TEST(Verifier, EveryTestdataModuleVerifies) {
  for (const std::string& name : testing::TestdataModules()) {
    auto m = ParseHloFile(testing::TestdataPath(name + ".hlo"));
    ASSERT_TRUE(m.ok()) << m.status().message();
    Status s = VerifyModule(**m);
    EXPECT_TRUE(s.ok()) << name << ": " << s.message();
  }
}

struct BadModule {
  const char* name;
  const char* body;  // instructions of the entry computation after p (f32[2,3]) and q (f32[3,4])
  const char* message;
};

const BadModule kBad[] = {
    {"BinaryShapes", "ROOT r = f32[2,3] add(p, q)", "operands f32[2,3] and f32[3,4] differ"},
    {"DeclaredShape", "ROOT r = f32[3,2] negate(p)", "declared shape f32[3,2] but negate gives f32[2,3]"},
    {"DotContracting", "ROOT r = f32[2,4] dot(p, q), lhs_contracting_dims={0}, rhs_contracting_dims={0}", "contracting dimension sizes differ"},
    {"DotResult", "ROOT r = f32[2,5] dot(p, q), lhs_contracting_dims={1}, rhs_contracting_dims={0}", "dot gives f32[2,4]"},
    {"BroadcastDims", "ROOT r = f32[2,3,5] broadcast(p), dimensions={0,2}", "operand dim 1 (3) does not match result dim 2 (5)"},
    {"BroadcastRank", "ROOT r = f32[2,3,5] broadcast(p), dimensions={0}", "one entry per operand dimension"},
    {"ReshapeCount", "ROOT r = f32[7] reshape(p)", "cannot reshape f32[2,3] (6 elements)"},
    {"TransposePermutation", "ROOT r = f32[3,2] transpose(p), dimensions={0,0}", "repeats dimension 0"},
    {"GteIndex", "t = (f32[2,3]) tuple(p)\n  ROOT r = f32[2,3] get-tuple-element(t), index=1", "index 1 out of range"},
    {"SliceRange", "ROOT r = f32[2,3] slice(p), slice={[0:2], [1:4]}", "out of range for dimension 1"},
    {"ConcatenateMismatch", "ROOT r = f32[5,3] concatenate(p, q), dimensions={0}", "does not match"},
    {"SelectPredicate", "ROOT r = f32[2,3] select(p, p, p)", "select predicate must be pred"},
    {"CompareShapes", "ROOT r = pred[2,3] compare(p, q), direction=LT", "compared shapes"},
    {"ConvertDims", "ROOT r = s32[3,2] convert(p)", "convert gives s32[2,3]"},
    {"ExpOnIntegers", "i = s32[2,3] convert(p)\n  ROOT r = s32[2,3] exponential(i)", "needs a floating-point operand"},
    {"ReduceDims", "ROOT r = f32[2] reduce(p, zf), dimensions={3}, to_apply=add", "out of range for rank 2"},
    {"ReduceInit", "ROOT r = f32[2] reduce(p, zi), dimensions={1}, to_apply=add", "init value 0 must be a f32 scalar"},
    {"ReducerSignature", "ROOT r = f32[2] reduce(p, zf), dimensions={1}, to_apply=bad", "computation 'bad' takes 1 parameters, expected 2"},
    {"PadValue", "ROOT r = f32[3,3] pad(p, zi), padding=1_0x0_0", "padding value must be a f32 scalar"},
    {"DynamicSliceIndices", "ROOT r = f32[1,1] dynamic-slice(p, zi), dynamic_slice_sizes={1,1}", "takes 2 scalar start indices, got 1"},
    {"DynamicSliceNoOperands", "ROOT r = f32[1,1] dynamic-slice(), dynamic_slice_sizes={1,1}", "takes an operand and start indices"},
    {"DynamicSliceIndexVectorLength", "v = s32[3] iota(), iota_dimension=0\n  ROOT r = f32[1,1] dynamic-slice(p, v), dynamic_slice_sizes={1,1}", "integer index vector of 2 entries"},
    {"CallArity", "ROOT r = f32[] call(p), to_apply=add", "calls 'add' with 1 operands, it takes 2"},
    {"IotaDimension", "ROOT r = s32[4] iota(), iota_dimension=1", "iota_dimension out of range"},
};

class VerifierBadTest : public ::testing::TestWithParam<BadModule> {};

TEST_P(VerifierBadTest, NamesInstructionAndProblem) {
  std::string text = std::string("HloModule m\nadd {\n  x = f32[] parameter(0)\n  y = f32[] parameter(1)\n  ROOT s = f32[] add(x, y)\n}\n") +
                     "bad {\n  ROOT x = f32[] parameter(0)\n}\n" +
                     "ENTRY e {\n  p = f32[2,3] parameter(0)\n  q = f32[3,4] parameter(1)\n  zf = f32[] constant(0)\n  zi = s32[] constant(0)\n  " + GetParam().body + "\n}\n";
  auto m = ParseHloModule(text, "test.hlo");
  ASSERT_TRUE(m.ok()) << m.status().message();
  Status s = VerifyModule(**m);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), ::testing::MatchesRegex(R"(test\.hlo:[0-9]+:[0-9]+: [a-z]+: .*)"));
  EXPECT_THAT(s.message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(Verifier, VerifierBadTest, ::testing::ValuesIn(kBad),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace pjit
