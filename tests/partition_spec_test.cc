#include "format/partition_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "format/file_util.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

using ::testing::HasSubstr;

struct JaxCase {
  std::string mesh, spec, sharding;
  int64_t rank;
};

std::vector<JaxCase> JaxCases() {
  std::vector<JaxCase> cases;
  auto text = ReadFileToString(testing::TestdataPath("partition_specs.txt"));
  EXPECT_TRUE(text.ok());
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    std::string part;
    while (std::getline(ls, part, '|')) f.push_back(part);
    if (f.size() == 4) cases.push_back({f[0], f[2], f[3], std::stoll(f[1])});
  }
  return cases;
}

// testdata/partition_specs.txt holds what JAX's NamedSharding gives for 142 (mesh, spec, rank)
// combinations on 1-, 2- and 3-axis meshes, with and without partial replication.
TEST(PartitionSpec, MatchesJaxBothWays) {
  std::vector<JaxCase> cases = JaxCases();
  ASSERT_GE(cases.size(), 100u);
  for (const JaxCase& c : cases) {
    SCOPED_TRACE(c.mesh + " | " + c.spec + " | rank " + std::to_string(c.rank));
    auto mesh = ParseMesh(c.mesh);
    ASSERT_TRUE(mesh.ok()) << mesh.status().message();
    auto spec = ParsePartitionSpec(c.spec);
    ASSERT_TRUE(spec.ok()) << spec.status().message();
    auto sharding = PartitionSpecToSharding(*spec, *mesh, c.rank);
    ASSERT_TRUE(sharding.ok()) << sharding.status().message();
    EXPECT_EQ(sharding->ToString(), c.sharding);
    // Back: the spec found for JAX's sharding gives that sharding again (size-1 axes and
    // trailing "_" may be spelled differently).
    auto back = ShardingToPartitionSpec(*ParseHloSharding(c.sharding), *mesh, c.rank);
    ASSERT_TRUE(back.ok()) << back.status().message();
    auto again = PartitionSpecToSharding(*back, *mesh, c.rank);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->ToString(), c.sharding) << "spec found: " << back->ToString();
  }
}

TEST(PartitionSpec, ParseAndPrint) {
  for (const char* text : {"data,_", "(data,model),_", "_,model", "x", "(a,b,c),_,_"}) {
    auto spec = ParsePartitionSpec(text);
    ASSERT_TRUE(spec.ok()) << text;
    EXPECT_EQ(spec->ToString(), text);
  }
  EXPECT_EQ(ParsePartitionSpec("None, data")->ToString(), "_,data");
  EXPECT_TRUE(ParsePartitionSpec("")->dims.empty());
}

TEST(PartitionSpec, Errors) {
  Mesh mesh = *ParseMesh("data=2,model=4");
  EXPECT_THAT(ParsePartitionSpec("data,3x").status().message(), HasSubstr("expected an axis name, '_' or '(a,b)', got '3x'"));
  EXPECT_THAT(PartitionSpecToSharding(*ParsePartitionSpec("batch"), mesh, 2).status().message(),
              HasSubstr("the mesh (data=2,model=4) has no axis 'batch'"));
  EXPECT_THAT(PartitionSpecToSharding(*ParsePartitionSpec("data,data"), mesh, 2).status().message(), HasSubstr("uses axis 'data' twice"));
  EXPECT_THAT(PartitionSpecToSharding(*ParsePartitionSpec("data,_,_"), mesh, 2).status().message(), HasSubstr("3 entries for an array of rank 2"));
  EXPECT_THAT(ParseMesh("data=2,data=4").status().message(), HasSubstr("axis 'data' appears twice"));
  EXPECT_THAT(ParseMesh("data=0").status().message(), HasSubstr("needs a size in [1, 2^20]"));
  EXPECT_THAT(ParseMesh("data").status().message(), HasSubstr("expected NAME=SIZE"));
}

TEST(PartitionSpec, MeshFromShardyAttribute) {
  auto m = MeshFromFrontendAttributes(R"({xla.sdy.meshes={mesh = #sdy.mesh<["data"=2, "model"=4]>}})");
  ASSERT_TRUE(m.ok() && m->has_value()) << m.status().message();
  EXPECT_EQ(MeshToString(**m), "data=2,model=4");
  auto escaped = MeshFromFrontendAttributes(R"({xla.sdy.meshes="{mesh = #sdy.mesh<[\"a\"=2, \"b\"=2], device_ids=[3,2,1,0]>}"})");
  ASSERT_TRUE(escaped.ok() && escaped->has_value()) << escaped.status().message();
  EXPECT_EQ(MeshToString(**escaped), "a=2,b=2");
  EXPECT_EQ((*escaped)->device_ids, (std::vector<int64_t>{3, 2, 1, 0}));
  EXPECT_FALSE(MeshFromFrontendAttributes(R"({_xla_compute_type="host"})")->has_value());
  EXPECT_THAT(MeshFromFrontendAttributes(R"({xla.sdy.meshes={mesh = #sdy.mesh<["a"=2], device_ids=[0,0]>}})").status().message(),
              HasSubstr("device_ids must list each of the 2 devices once"));
}

TEST(PartitionSpec, NotExpressible) {
  Mesh mesh = *ParseMesh("data=2,model=4");
  // Device order no mesh transposition gives.
  EXPECT_EQ(ShardingToPartitionSpec(*ParseHloSharding("{devices=[2,4]0,1,2,3,5,4,7,6}"), mesh, 2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ShardingToPartitionSpec(*ParseHloSharding("{maximal device=1}"), mesh, 2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ShardingToPartitionSpec(*ParseHloSharding("{devices=[2,1,4]<=[8] last_tile_dims={manual}}"), mesh, 2).status().code(),
            StatusCode::kNotFound);
  // Fully replicated tile assignments read as all-unsplit.
  EXPECT_EQ(ShardingToPartitionSpec(*ParseHloSharding("{devices=[1,1,8]<=[8] last_tile_dim_replicate}"), mesh, 2)->ToString(), "");
}

TEST(PartitionSpec, NonIotaMeshesGiveExplicitDeviceLists) {
  Mesh mesh = *ParseMesh("data=2,model=2");
  mesh.device_ids = {3, 2, 1, 0};
  auto s = PartitionSpecToSharding(*ParsePartitionSpec("model,_"), mesh, 2);
  ASSERT_TRUE(s.ok());
  // The mesh array [[3,2],[1,0]] transposed so model comes first: [[3,1],[2,0]].
  EXPECT_EQ(s->ToString(), "{devices=[2,1,2]3,1,2,0 last_tile_dim_replicate}");
  EXPECT_EQ(ShardingToPartitionSpec(*s, mesh, 2)->ToString(), "model");
}

}  // namespace
}  // namespace pjit
