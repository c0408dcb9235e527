// The reference interpreter running N devices together: collective semantics, and
// hand-partitioned programs (as GSPMD writes them) against the unpartitioned program.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "format/verifier.h"
#include "run/interpreter/evaluator.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

using ::testing::HasSubstr;

Literal Array(DType t, std::vector<int64_t> dims, const std::vector<double>& values) {
  Literal l(Shape::Array(t, std::move(dims)));
  for (size_t i = 0; i < values.size(); ++i) l.SetFromDouble(static_cast<int64_t>(i), values[i]);
  return l;
}

std::vector<double> Values(const Literal& l) {
  std::vector<double> v;
  for (int64_t i = 0; i < l.element_count(); ++i) v.push_back(l.GetAsDouble(i));
  return v;
}

std::string WithHeader(const std::string& text) { return text.rfind("HloModule", 0) == 0 ? text : "HloModule m\n" + text; }

std::vector<Literal> RunSpmd(const std::string& text, std::vector<std::vector<Literal>> args, int64_t timeout_ms = 60'000) {
  auto m = testing::ParseOrDie(WithHeader(text));
  EXPECT_TRUE(VerifyModule(*m).ok());
  auto r = EvaluateSpmd(*m, args, timeout_ms);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(*r) : std::vector<Literal>();
}

constexpr const char* kAdd = "add {\n  x = f32[] parameter(0)\n  y = f32[] parameter(1)\n  ROOT s = f32[] add(x, y)\n}\n";
constexpr const char* kMax = "max {\n  x = f32[] parameter(0)\n  y = f32[] parameter(1)\n  ROOT s = f32[] maximum(x, y)\n}\n";

// Device d holds [d, 10d] (or [d, 10d, 100d, 1000d] for the 4-element cases).
std::vector<std::vector<Literal>> PerDevice(int n, int elements) {
  std::vector<std::vector<Literal>> args;
  for (int d = 0; d < n; ++d) {
    std::vector<double> v;
    for (int k = 0; k < elements; ++k) v.push_back(d * std::pow(10.0, k));
    args.push_back({Array(DType::kF32, {elements}, v)});
  }
  return args;
}

TEST(SpmdEvaluation, AllReduceOverAllDevicesAndOverGroups) {
  auto r = RunSpmd(std::string(kAdd) + kMax + "ENTRY e {\n  p = f32[2] parameter(0)\n"
                   "  s = f32[2] all-reduce(p), channel_id=1, replica_groups={}, to_apply=add\n"
                   "  m = f32[2] all-reduce(p), channel_id=2, replica_groups={{0,2},{1,3}}, use_global_device_ids=true, to_apply=max\n"
                   "  ROOT t = (f32[2], f32[2]) tuple(s, m)\n}",
                   PerDevice(4, 2));
  ASSERT_EQ(r.size(), 4u);
  for (int d = 0; d < 4; ++d) {
    EXPECT_EQ(Values(r[d].elements()[0]), (std::vector<double>{6, 60}));  // 0+1+2+3
    double top = d % 2 == 0 ? 2 : 3;                                     // max over {0,2} or {1,3}
    EXPECT_EQ(Values(r[d].elements()[1]), (std::vector<double>{top, 10 * top}));
  }
}

TEST(SpmdEvaluation, AllGatherReduceScatterAllToAll) {
  auto r = RunSpmd(std::string(kAdd) + "ENTRY e {\n  p = f32[4] parameter(0)\n"
                   "  g = f32[8] all-gather(p), channel_id=1, replica_groups={{0,1}}, dimensions={0}\n"
                   "  rs = f32[2] reduce-scatter(p), channel_id=2, replica_groups={{0,1}}, dimensions={0}, to_apply=add\n"
                   "  a = f32[4] all-to-all(p), channel_id=3, replica_groups={{0,1}}, dimensions={0}\n"
                   "  ROOT t = (f32[8], f32[2], f32[4]) tuple(g, rs, a)\n}",
                   PerDevice(2, 4));
  // Device 0 holds [0,0,0,0], device 1 [1,10,100,1000].
  for (int d = 0; d < 2; ++d) EXPECT_EQ(Values(r[d].elements()[0]), (std::vector<double>{0, 0, 0, 0, 1, 10, 100, 1000}));
  EXPECT_EQ(Values(r[0].elements()[1]), (std::vector<double>{1, 10}));
  EXPECT_EQ(Values(r[1].elements()[1]), (std::vector<double>{100, 1000}));
  // all-to-all: device p receives chunk p of every device, in device order.
  EXPECT_EQ(Values(r[0].elements()[2]), (std::vector<double>{0, 0, 1, 10}));
  EXPECT_EQ(Values(r[1].elements()[2]), (std::vector<double>{0, 0, 100, 1000}));
}

TEST(SpmdEvaluation, CollectivePermuteAndPartitionId) {
  auto r = RunSpmd("HloModule m\nENTRY e {\n  p = f32[2] parameter(0)\n"
                   "  c = f32[2] collective-permute(p), channel_id=1, source_target_pairs={{0,1},{1,2},{2,3}}\n"
                   "  id = u32[] partition-id()\n  ROOT t = (f32[2], u32[]) tuple(c, id)\n}",
                   PerDevice(4, 2));
  EXPECT_EQ(Values(r[0].elements()[0]), (std::vector<double>{0, 0})) << "no source sends to device 0: zeros";
  EXPECT_EQ(Values(r[3].elements()[0]), (std::vector<double>{2, 20}));
  EXPECT_EQ(r[3].elements()[1].Get<uint32_t>(0), 3u);
}

TEST(SpmdEvaluation, CollectivesInLoopsMeetOncePerIteration) {
  auto r = RunSpmd(std::string(kAdd) + "cond {\n  s = (s32[], f32[2]) parameter(0)\n  i = s32[] get-tuple-element(s), index=0\n"
                   "  n = s32[] constant(3)\n  ROOT lt = pred[] compare(i, n), direction=LT\n}\n"
                   "body {\n  s = (s32[], f32[2]) parameter(0)\n  i = s32[] get-tuple-element(s), index=0\n  x = f32[2] get-tuple-element(s), index=1\n"
                   "  one = s32[] constant(1)\n  i2 = s32[] add(i, one)\n"
                   "  y = f32[2] all-reduce(x), channel_id=1, replica_groups={}, to_apply=add\n  ROOT t = (s32[], f32[2]) tuple(i2, y)\n}\n"
                   "ENTRY e {\n  p = f32[2] parameter(0)\n  z = s32[] constant(0)\n  init = (s32[], f32[2]) tuple(z, p)\n"
                   "  w = (s32[], f32[2]) while(init), condition=cond, body=body\n  ROOT r = f32[2] get-tuple-element(w), index=1\n}",
                   PerDevice(2, 2));
  // [0,0] and [1,10]: after one all-reduce both hold [1,10], then [2,20], then [4,40].
  EXPECT_EQ(Values(r[0]), (std::vector<double>{4, 40}));
  EXPECT_EQ(Values(r[1]), (std::vector<double>{4, 40}));
}

TEST(SpmdEvaluation, AMissingDeviceTimesOutByName) {
  auto m = testing::ParseOrDie("HloModule m\n" + std::string(kAdd) + "skip {\n  x = f32[2] parameter(0)\n  ROOT y = f32[2] copy(x)\n}\n"
                               "reduce {\n  x = f32[2] parameter(0)\n  ROOT y = f32[2] all-reduce(x), channel_id=1, replica_groups={}, to_apply=add\n}\n"
                               "ENTRY e {\n  p = f32[2] parameter(0)\n  id = u32[] partition-id()\n  one = u32[] constant(1)\n"
                               "  is1 = pred[] compare(id, one), direction=EQ\n"
                               "  ROOT c = f32[2] conditional(is1, p, p), true_computation=skip, false_computation=reduce\n}");
  auto r = EvaluateSpmd(*m, PerDevice(3, 2), 200);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("collective timed out after 0.2 s: devices 1 did not arrive"));
}

// Hand-partitioned programs, written as GSPMD partitions them, give what the unpartitioned
// program gives: the interpreter is the judge of both.
Literal Global(const std::string& text, std::vector<Literal> args) {
  auto m = testing::ParseOrDie(WithHeader(text));
  auto r = EvaluateModule(*m, args);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(*r);
}

Literal Iota(std::vector<int64_t> dims, double scale, double offset) {
  Literal l(Shape::Array(DType::kF32, dims));
  for (int64_t i = 0; i < l.element_count(); ++i) l.SetFromDouble(i, std::sin(i * scale + offset));
  return l;
}

Literal Rows(const Literal& x, int64_t first, int64_t count) {
  Shape s = x.shape();
  int64_t row = s.ElementCount() / s.dims[0];
  s.dims[0] = count;
  Literal out(s);
  for (int64_t i = 0; i < out.element_count(); ++i) out.SetFromDouble(i, x.GetAsDouble(first * row + i));
  return out;
}

Literal Columns(const Literal& x, int64_t first, int64_t count) {
  int64_t rows = x.shape().dims[0], cols = x.shape().dims[1];
  Literal out(Shape::Array(x.shape().dtype, {rows, count}));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < count; ++c) out.SetFromDouble(r * count + c, x.GetAsDouble(r * cols + first + c));
  return out;
}

TEST(SpmdEvaluation, RowShardedMatmulWithAllGatherEqualsTheGlobalProgram) {
  Literal x = Iota({8, 4}, 0.3, 0), w = Iota({4, 6}, 0.7, 1);
  Literal want = Global("HloModule g\nENTRY e {\n  x = f32[8,4] parameter(0)\n  w = f32[4,6] parameter(1)\n"
                        "  ROOT y = f32[8,6] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}", {x, w});
  std::vector<std::vector<Literal>> args;
  for (int d = 0; d < 4; ++d) args.push_back({Rows(x, 2 * d, 2), w});
  auto got = RunSpmd("HloModule p\nENTRY e {\n  x = f32[2,4] parameter(0)\n  w = f32[4,6] parameter(1)\n"
                     "  y = f32[2,6] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
                     "  ROOT g = f32[8,6] all-gather(y), channel_id=1, replica_groups={}, dimensions={0}\n}", std::move(args));
  for (const Literal& g : got) EXPECT_TRUE(testing::AllClose(g, want, 1e-6, 1e-6));
}

TEST(SpmdEvaluation, ContractingShardedMatmulWithAllReduceEqualsTheGlobalProgram) {
  // Megatron's second layer: h split by columns, w2 by rows; partial products are summed.
  Literal h = Iota({4, 8}, 0.2, 0.5), w = Iota({8, 3}, 0.9, 2);
  Literal want = Global("HloModule g\nENTRY e {\n  h = f32[4,8] parameter(0)\n  w = f32[8,3] parameter(1)\n"
                        "  ROOT y = f32[4,3] dot(h, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}", {h, w});
  std::vector<std::vector<Literal>> args;
  for (int d = 0; d < 2; ++d) args.push_back({Columns(h, 4 * d, 4), Rows(w, 4 * d, 4)});
  auto got = RunSpmd(std::string(kAdd) + "ENTRY e {\n  h = f32[4,4] parameter(0)\n  w = f32[4,3] parameter(1)\n"
                     "  y = f32[4,3] dot(h, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
                     "  ROOT s = f32[4,3] all-reduce(y), channel_id=1, replica_groups={}, to_apply=add\n}", std::move(args));
  for (const Literal& g : got) EXPECT_TRUE(testing::AllClose(g, want, 1e-5, 1e-6));
}

TEST(SpmdEvaluation, SoftmaxOverAShardedDimUsesTwoAllReducesAndEqualsTheGlobalProgram) {
  Literal x = Iota({2, 8}, 1.3, 0.1);
  std::string reducers = std::string(kAdd) + kMax;
  Literal expect = Global(reducers + "ENTRY e {\n  x = f32[2,8] parameter(0)\n  ninf = f32[] constant(-inf)\n  zero = f32[] constant(0)\n"
                          "  m = f32[2] reduce(x, ninf), dimensions={1}, to_apply=max\n  mb = f32[2,8] broadcast(m), dimensions={0}\n"
                          "  d = f32[2,8] subtract(x, mb)\n  e = f32[2,8] exponential(d)\n"
                          "  s = f32[2] reduce(e, zero), dimensions={1}, to_apply=add\n  sb = f32[2,8] broadcast(s), dimensions={0}\n"
                          "  ROOT y = f32[2,8] divide(e, sb)\n}", {x});
  std::vector<std::vector<Literal>> args;
  for (int d = 0; d < 4; ++d) args.push_back({Columns(x, 2 * d, 2)});
  auto got = RunSpmd(reducers + "ENTRY e {\n  x = f32[2,2] parameter(0)\n  ninf = f32[] constant(-inf)\n  zero = f32[] constant(0)\n"
                     "  lm = f32[2] reduce(x, ninf), dimensions={1}, to_apply=max\n"
                     "  m = f32[2] all-reduce(lm), channel_id=1, replica_groups={}, to_apply=max\n"
                     "  mb = f32[2,2] broadcast(m), dimensions={0}\n  d = f32[2,2] subtract(x, mb)\n  e = f32[2,2] exponential(d)\n"
                     "  ls = f32[2] reduce(e, zero), dimensions={1}, to_apply=add\n"
                     "  s = f32[2] all-reduce(ls), channel_id=2, replica_groups={}, to_apply=add\n"
                     "  sb = f32[2,2] broadcast(s), dimensions={0}\n  ROOT y = f32[2,2] divide(e, sb)\n}", std::move(args));
  ASSERT_EQ(got.size(), 4u);
  for (int d = 0; d < 4; ++d) EXPECT_TRUE(testing::AllClose(got[d], Columns(expect, 2 * d, 2), 1e-6, 1e-7)) << "device " << d;
}

}  // namespace
}  // namespace pjit
