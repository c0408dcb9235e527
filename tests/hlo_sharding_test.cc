#include "format/hlo_sharding.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "format/verifier.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

using ::testing::HasSubstr;

// Each text is what XLA prints; parsing and printing must give it back exactly.
class ShardingRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(ShardingRoundTrip, PrintsAsXlaDoes) {
  auto s = ParseHloSharding(GetParam());
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->ToString(), GetParam());
  auto again = ParseHloSharding(s->ToString());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again == *s);
}

INSTANTIATE_TEST_SUITE_P(
    HloSharding, ShardingRoundTrip,
    ::testing::Values("{replicated}", "{manual}", "{unknown}", "{maximal device=3}", "{devices=[8]<=[8]}",
                      "{devices=[2,2]0,2,1,3}", "{devices=[2,1,4]<=[8] last_tile_dim_replicate}",
                      "{devices=[1,4,2]<=[2,4]T(1,0) last_tile_dim_replicate}",
                      "{devices=[2,2,2]<=[2,2,2]T(2,0,1)}", "{devices=[2,2]<=[4] last_tile_dims={manual}}",
                      "{devices=[2,1,2,2]<=[8] last_tile_dims={manual, replicated}}",
                      "{{replicated}, {devices=[2]0,1}, {maximal device=0}}", "{}",
                      "{replicated metadata={op_name=\"a\"}}",
                      "{devices=[2]0,1 metadata={{op_name=\"a\"}, {op_name=\"b\"}}}",
                      "{unknown shard_as 1}", "{devices=[4]<=[4] shard_like 2}"));

TEST(HloSharding, ReadsCompactSpellings) {
  auto s = ParseHloSharding("{{devices=[2,2]<=[4]},{replicated}}");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->ToString(), "{{devices=[2,2]<=[4]}, {replicated}}");
}

TEST(HloSharding, IotaDevices) {
  // [2,4]<=[2,4]T(1,0): ids 0..7 as 2x4, transposed to 4x2, read as 2x4 in row-major order.
  auto s = ParseHloSharding("{devices=[2,4]<=[2,4]T(1,0)}");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->tiles.Devices(), (std::vector<int64_t>{0, 4, 1, 5, 2, 6, 3, 7}));
  auto t = ParseHloSharding("{devices=[2,2,2]<=[2,2,2]T(2,0,1)}");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->tiles.Devices(), (std::vector<int64_t>{0, 2, 4, 6, 1, 3, 5, 7}));
}

TEST(HloSharding, IotaAndExplicitListsAreEqual) {
  auto a = ParseHloSharding("{devices=[2,4]<=[2,4]T(1,0)}");
  auto b = ParseHloSharding("{devices=[2,4]0,4,1,5,2,6,3,7}");
  auto c = ParseHloSharding("{devices=[2,4]0,1,2,3,4,5,6,7}");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_TRUE(*a == *b);
  EXPECT_FALSE(*a == *c);
  EXPECT_FALSE(*a == *ParseHloSharding("{devices=[2,4]<=[2,4]T(1,0) shard_as 1}"));
}

TEST(HloSharding, CanonicalIota) {
  auto canon = [](std::vector<int64_t> reshape, std::vector<int64_t> perm) {
    IotaTileAssignment t{{8}, std::move(reshape), std::move(perm)};
    return CanonicalIota(t).ToString();
  };
  EXPECT_EQ(canon({2, 4}, {0, 1}), "[8]<=[8]");
  EXPECT_EQ(canon({2, 4}, {1, 0}), "[8]<=[2,4]T(1,0)");
  EXPECT_EQ(canon({2, 1, 4}, {2, 1, 0}), "[8]<=[2,4]T(1,0)");
  EXPECT_EQ(canon({2, 2, 2}, {1, 2, 0}), "[8]<=[2,4]T(1,0)");  // dims 1,2 stay adjacent: merged
  EXPECT_EQ(canon({2, 2, 2}, {2, 0, 1}), "[8]<=[4,2]T(1,0)");
}

TEST(HloSharding, Errors) {
  struct Case {
    const char* text;
    const char* message;
    size_t offset;
  } cases[] = {
      {"{devices=[2,2]0,1,2}", "lists 3 devices for 4 tiles", 14},
      {"{devices=[2,2]<=[8]}", "iota reshape dims do not match 4 devices", 14},
      {"{devices=[2,2]0,1,1,2}", "a device appears twice", 14},
      {"{devices=[4]<=[2,2]T(0,0)}", "not a permutation", 12},
      {"{maximal}", "expected 'device=' after 'maximal'", 8},
      {"{replicated last_tile_dim_replicate}", "last_tile_dim_replicate needs devices=", 12},
      {"{devices=[2]<=[2] last_tile_dims={sideways}}", "last_tile_dims takes manual or replicated", 34},
      {"{devices=[2]<=[2] last_tile_dims={manual, manual}}", "more subgroup dims than tile dims", 1},
      {"{sideways}", "expected replicated, manual, unknown, maximal or devices=", 1},
      {"{replicated} x", "unexpected text after the sharding", 13},
      {"{devices=[0]}", "tile dimensions must be in [1, 2^20]", 12},
      {"{mesh['x'=2] [{'x'}]}", "unsupported: named sharding 'mesh'", 1},
  };
  for (const Case& c : cases) {
    size_t offset = 0;
    auto s = ParseHloSharding(c.text, &offset);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_THAT(s.status().message(), HasSubstr(c.message)) << c.text;
    EXPECT_EQ(offset, c.offset) << c.text;
  }
}

TEST(HloSharding, ParserReportsShardingErrorsAtTheirColumn) {
  auto m = ParseHloModule("HloModule m\nENTRY e {\n  ROOT p = f32[4] parameter(0), sharding={devices=[2]0,0}\n}", "t.hlo");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "t.hlo:3:54: invalid sharding: a device appears twice in the tile assignment");
}

TEST(HloSharding, ValidateAgainstShapes) {
  Shape array = Shape::Array(DType::kF32, {8, 4});
  EXPECT_TRUE(ValidateSharding(*ParseHloSharding("{devices=[2,1,4]<=[8] last_tile_dim_replicate}"), array, 8).ok());
  EXPECT_THAT(ValidateSharding(*ParseHloSharding("{devices=[2,1,4]<=[8]}"), array, 8).message(), HasSubstr("tiles 3 dimensions of f32[8,4]"));
  EXPECT_THAT(ValidateSharding(*ParseHloSharding("{devices=[2,2]<=[4]}"), array, 2).message(), HasSubstr("names device 2 of 2"));
  EXPECT_THAT(ValidateSharding(*ParseHloSharding("{maximal device=5}"), array, 4).message(), HasSubstr("device 5 of 4"));
  Shape tuple = Shape::Tuple({array, Shape::Array(DType::kS32, {})});
  EXPECT_TRUE(ValidateSharding(*ParseHloSharding("{{devices=[2,2]<=[4]}, {replicated}}"), tuple, 4).ok());
  EXPECT_TRUE(ValidateSharding(*ParseHloSharding("{replicated}"), tuple, 4).ok());
  EXPECT_THAT(ValidateSharding(*ParseHloSharding("{{replicated}}"), tuple, 4).message(), HasSubstr("tuple sharding with 1 elements"));
}

TEST(HloSharding, VerifierChecksShardingRank) {
  auto m = testing::ParseOrDie("HloModule m\nENTRY e {\n  ROOT p = f32[4,4] parameter(0), sharding={devices=[2]0,1}\n}");
  Status s = VerifyModule(*m);
  EXPECT_THAT(s.message(), HasSubstr("test.hlo:3:3: p: sharding {devices=[2]0,1} tiles 1 dimensions of f32[4,4]"));
}

}  // namespace
}  // namespace pjit
