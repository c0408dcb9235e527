// Propagation on modules from XLA's sharding_propagation_test.cc (../shared/corpus/xla/
// propagation), checked against the shardings that test asserts, in SPMD mode. Shardings
// are compared by meaning: an iota device list equals the explicit list it expands to.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "compile/call_inliner.h"
#include "compile/sharding_propagation.h"
#include "format/verifier.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

struct Expectation {
  const char* file;         // corpus/xla/propagation/<file>.hlo
  const char* instruction;
  const char* sharding;     // as XLA's test asserts it
};

const Expectation kExpectations[] = {
    {"ElementwiseOperationForwardPass", "add", "{devices=[1,2,2,1]0,1,2,3}"},
    {"ElementwiseOperationBackwardPass", "add", "{devices=[1,2,2,1]0,1,2,3}"},
    {"BroadcastBackwardPass", "broadcast", "{devices=[1,2,2,1]0,1,2,3}"},
    {"BroadcastForwardPartial", "broadcast", "{devices=[1,2,1,2]0,1,2,3 last_tile_dim_replicate}"},
    {"BroadcastMerge", "broadcast", "{devices=[1,2,2]0,1,2,3}"},
    {"BroadcastUser", "copy", "{devices=[2,4]0,1,2,3,4,5,6,7}"},
    {"BroadcastUserPartial", "copy", "{devices=[2,1,4]0,2,4,6,1,3,5,7 last_tile_dim_replicate}"},
    {"ShardedReduceForwardPass", "reduce", "{devices=[2,2]0,1,2,3}"},
    {"ReducePartiallyOnTiledDims", "reduce", "{devices=[2,2]0,2,1,3 last_tile_dim_replicate}"},
    {"ReducePartiallyOnTiledDims2", "reduce", "{devices=[2,4]0,1,4,5,2,3,6,7 last_tile_dim_replicate}"},
    {"ReducePartiallyBackward", "input", "{devices=[1,2,2]0,1,2,3 last_tile_dim_replicate}"},
    {"GetTupleElementForwardPass", "gte", "{devices=[1,2,2,1]0,1,2,3}"},
    {"GetTupleElementForwardPass", "gte.1", "{{replicated}, {devices=[1,2,2,1]0,1,2,3}}"},
    {"GetTupleElementForwardPass", "gte.2", "{replicated}"},
    {"TupleForwardPass", "tuple", "{{devices=[1,2,2,1]0,1,2,3}, {replicated}}"},
    {"TupleForwardPass", "tuple.1", "{{replicated}, {devices=[1,2,2,1]0,1,2,3}, {replicated}}"},
    {"ForwardConvolutionForwardPass", "convolution", "{devices=[2,2,2,1]0,1,2,3,4,5,6,7}"},
    {"TransposeForwardPass", "transpose", "{devices=[1,2,2]0,2,1,3}"},
    {"TransposeBackwardPass", "copy", "{devices=[2,1,2]0,2,1,3}"},
    {"ReshapeForwardPass", "reshape", "{devices=[2,1,1]0,1}"},
    {"ReshapeBackwardPass", "copy", "{devices=[2,1]0,1}"},
    {"PadForwardPass", "pad", "{devices=[2,2]0,1,2,3}"},
    {"PadBackwardPass", "copy", "{devices=[2,2]0,1,2,3}"},
    {"PartialReplicatedPadForwardPass", "pad", "{devices=[2,2,2]0,1,2,3,4,5,6,7 last_tile_dim_replicate}"},
    {"ShardedPreferredOverReplicated", "copy", "{devices=[1,2,2,1]0,1,2,3}"},
    {"ShardedPreferredOverReplicated", "copy.1", "{devices=[1,2,2,1]0,1,2,3}"},
};

class XlaConformance : public ::testing::TestWithParam<Expectation> {};

TEST_P(XlaConformance, MatchesXlasShardingPropagation) {
  const Expectation& e = GetParam();
  std::filesystem::path file = std::filesystem::path(PJIT_CORPUS_DIR) / "xla" / "propagation" / (std::string(e.file) + ".hlo");
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "no conformance corpus at " << file;
  auto m = ParseHloFile(file.string());
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_TRUE(VerifyModule(**m).ok());
  ASSERT_TRUE(InlineCalls(**m).ok());
  auto r = PropagateShardings(**m, Mesh::Linear(testing::DevicesNamed(**m)));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Instruction* in = nullptr;
  for (const auto& c : (*m)->computations)
    if (const Instruction* found = c->Find(e.instruction)) in = found;
  ASSERT_NE(in, nullptr) << e.instruction;
  ASSERT_TRUE(in->sharding.has_value());
  auto expected = ParseHloSharding(e.sharding);
  ASSERT_TRUE(expected.ok());
  EXPECT_TRUE(*in->sharding == *expected) << e.instruction << ": got " << in->sharding->ToString() << ", XLA gives " << e.sharding
                                          << " (rule: " << in->sharding_provenance.rule << ")";
}

INSTANTIATE_TEST_SUITE_P(ShardingPropagation, XlaConformance, ::testing::ValuesIn(kExpectations),
                         [](const auto& info) { return std::string(info.param.file) + "_" + std::to_string(info.index); });

}  // namespace
}  // namespace pjit
