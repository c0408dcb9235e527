// The CPU code generator against the reference interpreter: every op and element type the loop
// emitter takes, on inputs full of edge values (NaN, ±inf, ±0, denormals, INT_MIN, -1, zero
// divisors, shifts past the width), compiled to one shared object, loaded from memory the way
// the cpu platform loads it, run over two row ranges, and compared bit for bit with the
// interpreter's result for the unfused module (within a few ulp for the approximated float
// exp, tanh and logistic, which are also swept densely). Also: what fuses with what.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <limits>
#include <random>

#include "compile/cpu_codegen.h"
#include "compile/kernel_fusion.h"
#include "compile/pipeline.h"
#include "format/file_util.h"
#include "format/verifier.h"
#include "run/interpreter/evaluator.h"
#include "run/plugins/cpu/cpu_features.h"
#include "run/plugins/cpu/native_library.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

using ::testing::HasSubstr;

// Reducers the modules below call.
const std::string kAdd = "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT c = f32[] add(a, b)\n}\n";
const std::string kMax = "max {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n  ROOT c = f32[] maximum(a, b)\n}\n";

// Values that exercise each type's edge cases, then random ones.
Literal EdgeValues(const Shape& shape, uint32_t seed, bool small_non_negative = false) {
  Literal l(shape);
  std::mt19937 rng(seed);
  VisitDType(shape.dtype, [&]<typename T>() {
    std::vector<double> floats = {0.0, -0.0, 1.0, -1.0, 0.5, 2.5, -2.5, 3.5, 1e30, -1e30, 1e-40, 3.0, 100.0, -7.25,
                                  std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                                  std::numeric_limits<double>::quiet_NaN()};
    for (int64_t i = 0; i < l.element_count(); ++i) {
      if constexpr (std::is_same_v<T, bool>) {
        l.Set<bool>(i, rng() & 1);
      } else if constexpr (std::is_integral_v<T>) {
        std::vector<T> edges = {0, 1, static_cast<T>(-1), std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), 2,
                                static_cast<T>(-2), 7, 31, 32, 63, 64};
        T v = i < static_cast<int64_t>(edges.size()) * 2 ? edges[static_cast<size_t>(i) % edges.size()] : static_cast<T>(rng());
        if (small_non_negative) v = static_cast<T>(rng() % 70);
        l.Set<T>(i, v);
      } else {
        std::normal_distribution<double> normal(0.0, 10.0);
        double v = i < static_cast<int64_t>(floats.size()) * 2 ? floats[static_cast<size_t>(i) % floats.size()] : normal(rng);
        if (small_non_negative) v = std::fabs(v);
        l.SetFromDouble(i, v);
      }
    }
  });
  return l;
}

// Floats in order of their bit patterns: the distance of two keys counts the floats between
// (-0 and +0 one apart, so that a wrong zero sign is a difference).
template <typename T>
int64_t OrderKey(T v) {
  if constexpr (sizeof(T) == 2) {
    int16_t b;
    std::memcpy(&b, &v, 2);
    return b < 0 ? -static_cast<int64_t>(b & 0x7fff) - 1 : b;
  } else if constexpr (sizeof(T) == 4) {
    int32_t b;
    std::memcpy(&b, &v, 4);
    return b < 0 ? -static_cast<int64_t>(b & 0x7fffffff) - 1 : b;
  } else {
    int64_t b;
    std::memcpy(&b, &v, 8);
    return b < 0 ? -(b & 0x7fffffffffffffff) - 1 : b;
  }
}

// Equal bits (any NaN equals any NaN), or for floats at most `ulps` representable values apart.
bool SameBits(const Literal& got, const Literal& want, int64_t ulps, std::string* where) {
  bool same = true;
  VisitDType(want.shape().dtype, [&]<typename T>() {
    for (int64_t i = 0; i < want.element_count() && same; ++i) {
      T g = got.Get<T>(i), w = want.Get<T>(i);
      if constexpr (std::is_floating_point_v<T> || kIsHalfType<T>) {
        double gd = static_cast<double>(static_cast<float>(g)), wd = static_cast<double>(static_cast<float>(w));
        if constexpr (std::is_same_v<T, double>) gd = g, wd = w;
        if ((std::isnan(gd) && std::isnan(wd)) || std::memcmp(&g, &w, sizeof(T)) == 0) continue;
        if (!std::isnan(gd) && !std::isnan(wd) && std::abs(OrderKey(g) - OrderKey(w)) <= ulps) continue;
        *where = "element " + std::to_string(i) + ": got " + std::to_string(gd) + ", expected " + std::to_string(wd);
      } else {
        if (g == w) continue;
        *where = "element " + std::to_string(i) + ": got " + std::to_string(static_cast<int64_t>(g)) + ", expected " +
                 std::to_string(static_cast<int64_t>(w));
      }
      same = false;
    }
  });
  return same;
}

struct Case {
  std::string label;
  std::unique_ptr<Module> module;
  std::vector<Literal> inputs;
  int64_t ulps = 0;  // approximated ops: how far from the interpreter's libm result
};

// How RunCases compiles and launches the kernels.
struct Launch {
  RowBlocking blocking = kCpuRowBlocking;
  std::string cpu = "x86-64";
  uint64_t stream_bytes = 0;  // CpuCodegenOptions::stream_bytes
  // Outputs one element past a 64-byte boundary (the host allocator's blocks are aligned), so
  // that a streaming kernel takes its plain copy.
  bool misaligned_outputs = false;
};

// Compiles every case's module as one fused kernel into one shared object, runs each on rows
// [0, n/2) and [n/2, n), and compares with the interpreter: with the CPU's launch rows, again
// with every kernel that can stream its stores doing so (see EmitLoopKernel), and with a GPU
// launch's rows (one thread per element where the CUDA kernels have it), whose index math the
// CUDA back end shares — one lane per row: warps that share a row need a GPU (cuda_runtime_test
// runs them there).
void RunCases(std::vector<Case>& cases, const Launch& launch);
void RunCases(std::vector<Case>& cases) {
  {
    SCOPED_TRACE("CPU launch rows");
    RunCases(cases, Launch{});
  }
  {
    SCOPED_TRACE("CPU launch rows, streamed stores");
    RunCases(cases, Launch{.stream_bytes = 1});
  }
  SCOPED_TRACE("GPU launch rows");
  RunCases(cases, Launch{.blocking = RowBlocking{kGpuRowBlocking.long_row, kGpuRowBlocking.block, 1}});
}

void RunCases(std::vector<Case>& cases, const Launch& launch) {
  const RowBlocking blocking = launch.blocking;
  std::vector<LoopFusion> fusions;
  for (Case& c : cases) {
    std::vector<LoopFusion> f = FindLoopFusions(*c.module->entry);
    ASSERT_EQ(f.size(), 1u) << c.label << ": expected one fusion";
    const Instruction* result = c.module->entry->root;
    if (f[0].siblings.empty()) {
      ASSERT_EQ(f[0].root, result) << c.label;
    } else {  // a multi-output kernel writes every element of the result's tuple
      std::vector<const Instruction*> written = f[0].siblings;
      written.push_back(f[0].root);
      ASSERT_EQ(result->opcode, Opcode::kTuple) << c.label;
      ASSERT_THAT(written, ::testing::UnorderedElementsAreArray(result->operands)) << c.label;
    }
    for (const LoopFusion& other : fusions) ASSERT_NE(other.name, f[0].name) << c.label << ": kernel names must differ";
    for (const Instruction* in : f[0].inputs) ASSERT_EQ(in->opcode, Opcode::kParameter) << c.label << ": " << in->name << " not fused";
    fusions.push_back(std::move(f[0]));
  }
  CpuCodegenOptions options;
  options.blocking = blocking;
  options.cpu = launch.cpu;
  options.stream_bytes = launch.stream_bytes;
  auto elf = CompileLoopKernels(fusions, options);
  ASSERT_TRUE(elf.ok()) << elf.status().message();
  auto library = NativeLibrary::Load(*elf, "test");
  ASSERT_TRUE(library.ok()) << library.status().message();
  for (size_t i = 0; i < cases.size(); ++i) {
    Case& c = cases[i];
    SCOPED_TRACE(c.label);
    auto want = EvaluateModule(*c.module, c.inputs);
    ASSERT_TRUE(want.ok()) << want.status().message();
    auto kernel = (*library)->Kernel(fusions[i].name);
    ASSERT_TRUE(kernel.ok()) << kernel.status().message();
    Literal got(c.module->entry->root->shape);
    std::vector<void*> args;
    for (const Instruction* in : fusions[i].inputs) args.push_back(c.inputs[static_cast<size_t>(in->parameter_number)].bytes().data());
    std::vector<Literal*> outputs{&got}, expected{&*want};
    if (!fusions[i].siblings.empty()) {  // the root, then the siblings: each an element of the result's tuple
      outputs.clear();
      expected.clear();
      std::vector<const Instruction*> written{fusions[i].root};
      written.insert(written.end(), fusions[i].siblings.begin(), fusions[i].siblings.end());
      const std::vector<Instruction*>& tuple = c.module->entry->root->operands;
      for (const Instruction* w : written) {
        size_t e = static_cast<size_t>(std::find(tuple.begin(), tuple.end(), w) - tuple.begin());
        outputs.push_back(&got.elements()[e]);
        expected.push_back(&want->elements()[e]);
      }
    } else if (got.shape().IsTuple()) {
      outputs.clear();
      expected.clear();
      for (size_t e = 0; e < got.elements().size(); ++e) outputs.push_back(&got.elements()[e]), expected.push_back(&want->elements()[e]);
    }
    std::vector<Literal> shifted;  // misaligned_outputs: the outputs one element on in a larger array
    for (Literal* o : outputs) {
      if (launch.misaligned_outputs) {
        Shape wider = o->shape();
        wider.dims = {o->element_count() + 1};
        shifted.emplace_back(wider);
        ASSERT_EQ(reinterpret_cast<uintptr_t>(shifted.back().bytes().data()) % 64, 0u);
        args.push_back(shifted.back().bytes().data() + DTypeByteSize(wider.dtype));
      } else {
        args.push_back(o->bytes().data());
      }
    }
    std::vector<uint64_t> scratch((LoopFusionScratchBytes(fusions[i]) + 7) / 8);
    if (!scratch.empty()) args.push_back(scratch.data());
    int64_t rows = LoopFusionRows(fusions[i], blocking);
    (*kernel)(args.data(), 0, rows / 2);
    (*kernel)(args.data(), rows / 2, rows);
    for (size_t e = 0; e < shifted.size(); ++e)
      std::memcpy(outputs[e]->bytes().data(), shifted[e].bytes().data() + DTypeByteSize(shifted[e].shape().dtype), outputs[e]->bytes().size());
    for (size_t e = 0; e < outputs.size(); ++e) {
      std::string where;
      EXPECT_TRUE(SameBits(*outputs[e], *expected[e], c.ulps, &where)) << "output " << e << ": " << where;
    }
  }
}

Case Make(const std::string& label, const std::string& text, std::vector<bool> small = {}) {
  Case c{label, testing::ParseOrDie(text), {}, 0};
  EXPECT_NE(c.module, nullptr) << text;
  if (!c.module) return c;
  Status valid = VerifyModule(*c.module);
  EXPECT_TRUE(valid.ok()) << label << ": " << valid.message();
  for (const Instruction* p : c.module->entry->parameters) {
    bool s = static_cast<size_t>(p->parameter_number) < small.size() && small[static_cast<size_t>(p->parameter_number)];
    c.inputs.push_back(EdgeValues(p->shape, static_cast<uint32_t>(c.inputs.size() * 7919 + label.size()), s));
  }
  return c;
}

std::string Binary(const std::string& t, const std::string& op, int n) {
  std::string r = "r" + std::to_string(n);
  return "HloModule m\nENTRY e {\n  a = " + t + "[3,37] parameter(0)\n  b = " + t + "[3,37] parameter(1)\n  ROOT " + r + " = " + t +
         "[3,37] " + op + "(a, b)\n}\n";
}

std::string Unary(const std::string& t, const std::string& op, int n) {
  return "HloModule m\nENTRY e {\n  a = " + t + "[5,29] parameter(0)\n  ROOT r" + std::to_string(n) + " = " + t + "[5,29] " + op +
         "(a)\n}\n";
}

TEST(LoopCodegen, EveryOpAndTypeMatchesTheInterpreter) {
  std::vector<Case> cases;
  int n = 0;
  const std::vector<std::string> floats = {"f32", "f64", "bf16", "f16"};
  const std::vector<std::string> ints = {"s8", "s16", "s32", "s64", "u8", "u16", "u32", "u64"};
  for (const std::string& t : floats) {
    for (const char* op : {"add", "subtract", "multiply", "divide", "remainder", "maximum", "minimum", "power", "atan2"})
      cases.push_back(Make(t + " " + op, Binary(t, op, n++)));
    for (const char* op : {"abs", "negate", "sign", "exponential", "exponential-minus-one", "log", "log-plus-one", "sqrt", "rsqrt",
                           "tanh", "logistic", "sine", "cosine", "tan", "cbrt", "floor", "ceil", "round-nearest-even", "round-nearest-afz",
                           "erf"}) {
      cases.push_back(Make(t + " " + op, Unary(t, op, n++)));
      // exp, tanh and logistic of f32 (and so bf16) are XLA-style approximations.
      bool approximate = t != "f64" && (std::string(op) == "exponential" || std::string(op) == "tanh" || std::string(op) == "logistic");
      if (approximate) cases.back().ulps = t == "f32" ? 8 : 1;  // bf16 and f16: rounded from f32's
    }
  }
  for (const std::string& t : ints) {
    for (const char* op : {"add", "subtract", "multiply", "divide", "remainder", "maximum", "minimum", "and", "or", "xor"})
      cases.push_back(Make(t + " " + op, Binary(t, op, n++)));
    for (const char* op : {"shift-left", "shift-right-logical", "shift-right-arithmetic"})
      cases.push_back(Make(t + " " + op, Binary(t, op, n++), {false, true}));
    for (const char* op : {"abs", "negate", "sign", "not", "popcnt", "count-leading-zeros"}) cases.push_back(Make(t + " " + op, Unary(t, op, n++)));
  }
  for (const char* op : {"and", "or", "xor"}) cases.push_back(Make(std::string("pred ") + op, Binary("pred", op, n++)));
  for (std::string t : floats)
    cases.push_back(Make(t + " is-finite", "HloModule m\nENTRY e {\n  a = " + t + "[5,29] parameter(0)\n  ROOT r" + std::to_string(n++) +
                                               " = pred[5,29] is-finite(a)\n}\n"));
  cases.push_back(Make("pred not", Unary("pred", "not", n++)));
  for (std::string t : {"f32", "f64", "bf16", "f16", "s32", "u32", "s8", "pred"})
    for (const char* dir : {"EQ", "NE", "LT", "LE", "GT", "GE"}) {
      std::string r = "r" + std::to_string(n++);
      cases.push_back(Make(t + " compare " + dir, "HloModule m\nENTRY e {\n  a = " + t + "[3,37] parameter(0)\n  b = " + t +
                                                      "[3,37] parameter(1)\n  ROOT " + r + " = pred[3,37] compare(a, b), direction=" +
                                                      dir + "\n}\n"));
      if (t != "f32" && t != "f64" && t != "bf16" && t != "f16") continue;
      r = "r" + std::to_string(n++);
      cases.push_back(Make(t + " compare " + dir + " TOTALORDER", "HloModule m\nENTRY e {\n  a = " + t + "[3,37] parameter(0)\n  b = " + t +
                                                                      "[3,37] parameter(1)\n  ROOT " + r + " = pred[3,37] compare(a, b), direction=" +
                                                                      dir + ", type=TOTALORDER\n}\n"));
    }
  const std::vector<std::string> all = {"pred", "s8", "s32", "s64", "u8", "u32", "u64", "bf16", "f16", "f32", "f64"};
  for (const std::string& from : all)
    for (const std::string& to : all) {
      if (from == to) continue;
      std::string r = "r" + std::to_string(n++);
      cases.push_back(Make("convert " + from + " to " + to, "HloModule m\nENTRY e {\n  a = " + from + "[4,19] parameter(0)\n  ROOT " + r +
                                                                " = " + to + "[4,19] convert(a)\n}\n"));
    }
  for (std::string t : {"f32", "s32", "bf16", "f16"}) {
    std::string r = "r" + std::to_string(n++);
    cases.push_back(Make(t + " select and clamp", "HloModule m\nENTRY e {\n  p = pred[3,37] parameter(0)\n  a = " + t +
                                                      "[3,37] parameter(1)\n  b = " + t + "[3,37] parameter(2)\n  lo = " + t +
                                                      "[] parameter(3)\n  hi = " + t + "[] parameter(4)\n  s = " + t +
                                                      "[3,37] select(p, a, b)\n  ROOT " + r + " = " + t + "[3,37] clamp(lo, s, hi)\n}\n"));
  }
  RunCases(cases);
}

// Index math: a transposed operand, broadcasts of a row and a scalar constant, an iota mask.
TEST(LoopCodegen, BroadcastTransposeIotaFuseIntoOneKernel) {
  std::vector<Case> cases;
  cases.push_back(Make("causal mask", R"(HloModule m
ENTRY e {
  x = f32[2,6,6] parameter(0)
  y = f32[6,6,2] parameter(1)
  bias = f32[6] parameter(2)
  t = f32[2,6,6] transpose(y), dimensions={2,0,1}
  b = f32[2,6,6] broadcast(bias), dimensions={2}
  s = f32[2,6,6] add(x, t)
  sb = f32[2,6,6] multiply(s, b)
  row = s32[2,6,6] iota(), iota_dimension=1
  col = s32[2,6,6] iota(), iota_dimension=2
  keep = pred[2,6,6] compare(row, col), direction=GE
  c = f32[] constant(-1e9)
  neg = f32[2,6,6] broadcast(c), dimensions={}
  ROOT masked = f32[2,6,6] select(keep, sb, neg)
})"));
  cases.push_back(Make("reshapes", R"(HloModule m
ENTRY e {
  x = s32[6,35] parameter(0)
  v = s32[210] reshape(x)
  t = s32[5,7,6] reshape(v)
  c = s32[5,7,6] iota(), iota_dimension=2
  ROOT rs = s32[5,7,6] add(t, c)
})"));
  cases.push_back(Make("long rows cut into blocks", R"(HloModule m
ENTRY e {
  x = f32[2,40001] parameter(0)
  a = f32[] parameter(1)
  ba = f32[2,40001] broadcast(a), dimensions={}
  ROOT long = f32[2,40001] multiply(x, ba)
})"));
  cases.push_back(Make("scalar", R"(HloModule m
ENTRY e {
  x = f64[] parameter(0)
  two = f64[] constant(2)
  ROOT y = f64[] multiply(x, two)
})"));
  RunCases(cases);
}

// exp(x - max) of a softmax: one kernel with the row max and the log of it computed once per
// row (row values) and the broadcasts duplicated in as index math; an expensive op broadcast
// along the row's elements (log(y) here) keeps a kernel of its own rather than being
// recomputed for every element.
TEST(LoopFusion, ProducersJoinTheirOnlyConsumerAndRowValuesAreComputedOncePerRow) {
  auto m = testing::ParseOrDie(R"(HloModule m
max {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT m = f32[] maximum(a, b)
}
ENTRY e {
  x = f32[4,8] parameter(0)
  y = f32[8] parameter(1)
  init = f32[] constant(-inf)
  mx = f32[4] reduce(x, init), dimensions={1}, to_apply=max
  l = f32[4] log(mx)
  bl = f32[4,8] broadcast(l), dimensions={0}
  ly = f32[8] log(y)
  by = f32[4,8] broadcast(ly), dimensions={1}
  bm = f32[4,8] broadcast(mx), dimensions={0}
  d = f32[4,8] subtract(x, bm)
  e = f32[4,8] exponential(d)
  s = f32[4,8] add(e, bl)
  ROOT r = f32[4,8] multiply(s, by)
})");
  ASSERT_NE(m, nullptr);
  std::vector<LoopFusion> f = FindLoopFusions(*m->entry);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].root->name, "ly") << "log along the row's elements keeps its own kernel";
  EXPECT_EQ(f[1].root->name, "r");
  auto names = [](const std::vector<const Instruction*>& v) {
    std::vector<std::string> n;
    for (const Instruction* in : v) n.push_back(in->name);
    return n;
  };
  EXPECT_THAT(names(f[1].members), ::testing::ElementsAre("init", "mx", "l", "bl", "by", "bm", "d", "e", "s", "r"));
  EXPECT_THAT(names(f[1].row_values), ::testing::ElementsAre("mx", "l"));
  EXPECT_THAT(f[1].row_value_dims, ::testing::ElementsAre(std::vector<int64_t>{0}, std::vector<int64_t>{0}));
  EXPECT_THAT(names(f[1].inputs), ::testing::ElementsAre("x", "ly"));
}

// Slice, reverse, pad (negative edges and interior), concatenate (with an empty operand),
// dynamic-slice and dynamic-update-slice (start indices clamped as XLA clamps them) as index
// math inside one kernel, for several element types, against the interpreter's bytes.
TEST(LoopCodegen, DataMovementOpsMatchTheInterpreter) {
  std::vector<Case> cases;
  int n = 0;
  for (const char* t : {"f32", "s8", "pred", "bf16", "u16"}) {
    const std::string ty = t, id = std::to_string(n++);
    cases.push_back(Make(ty + " slice and reverse", "HloModule m\nENTRY e {\n  x = " + ty + "[9,20] parameter(0)\n  s = " + ty +
                                                        "[3,5] slice(x), slice={[1:8:3], [2:19:4]}\n  ROOT r" + id + " = " + ty +
                                                        "[3,5] reverse(s), dimensions={1}\n}\n"));
    cases.push_back(Make(ty + " pad", "HloModule m\nENTRY e {\n  x = " + ty + "[4,6] parameter(0)\n  v = " + ty +
                                          "[] parameter(1)\n  ROOT p" + id + " = " + ty + "[11,10] pad(x, v), padding=-1_2_2x1_-2_1\n}\n"));
    cases.push_back(Make(ty + " concatenate", "HloModule m\nENTRY e {\n  a = " + ty + "[3,2] parameter(0)\n  b = " + ty +
                                                  "[3,0] parameter(1)\n  c = " + ty + "[3,5] parameter(2)\n  ROOT c" + id + " = " +
                                                  ty + "[3,7] concatenate(a, b, c), dimensions={1}\n}\n"));
  }
  auto starts = [](Case& c, size_t first, std::vector<int64_t> values) {
    for (size_t i = 0; i < values.size(); ++i) c.inputs[first + i].SetFromDouble(0, static_cast<double>(values[i]));
  };
  const std::string ds = "HloModule m\nENTRY e {\n  x = f32[6,9] parameter(0)\n  i = s32[] parameter(1)\n  j = s64[] parameter(2)\n"
                         "  ROOT NAME = f32[3,4] dynamic-slice(x, i, j), dynamic_slice_sizes={3,4}\n}\n";
  const std::vector<std::vector<int64_t>> at = {{2, 3}, {-5, 100}, {4, 5}, {0, 0}};
  for (size_t k = 0; k < at.size(); ++k) {
    std::string text = ds;
    text.replace(text.find("NAME"), 4, "ds" + std::to_string(k));
    cases.push_back(Make("dynamic-slice at " + std::to_string(at[k][0]) + "," + std::to_string(at[k][1]), text));
    starts(cases.back(), 1, at[k]);
    std::string dus = "HloModule m\nENTRY e {\n  x = s16[6,9] parameter(0)\n  u = s16[3,4] parameter(1)\n  i = u32[] parameter(2)\n"
                      "  j = s8[] parameter(3)\n  ROOT dus" + std::to_string(k) + " = s16[6,9] dynamic-update-slice(x, u, i, j)\n}\n";
    cases.push_back(Make("dynamic-update-slice at " + std::to_string(at[k][0]) + "," + std::to_string(at[k][1]), dus));
    starts(cases.back(), 2, {std::max<int64_t>(at[k][0], 0), at[k][1]});
  }
  cases.push_back(Make("shifted windows in one chain", R"(HloModule m
ENTRY e {
  x = f32[8,16] parameter(0)
  y = f32[8,4] parameter(1)
  z = f32[] constant(0)
  l = f32[8,12] slice(x), slice={[0:8], [4:16]}
  e = f32[8,4] exponential(y)
  c = f32[8,16] concatenate(l, e), dimensions={1}
  p = f32[8,18] pad(c, z), padding=0_0x1_1
  ROOT chain = f32[8,18] multiply(p, p)
})"));
  cases.back().ulps = 8;
  RunCases(cases);
}

// Gathers as index math: start indices read per element and clamped as XLA clamps them (the
// edge values put INT_MIN, INT_MAX and huge unsigned ones among the indices), offsets within
// the slice, batch and offset dims in any order, fused with what consumes them.
TEST(LoopCodegen, GathersMatchTheInterpreter) {
  std::vector<Case> cases;
  cases.push_back(Make("embedding rows", R"(HloModule m
ENTRY e {
  table = f32[12,10] parameter(0)
  ids = s32[6,4] parameter(1)
  ROOT g0 = f32[6,4,10] gather(table, ids), offset_dims={2}, collapsed_slice_dims={0}, start_index_map={0}, index_vector_dim=2, slice_sizes={1,10}
})"));
  cases.push_back(Make("rows through an index vector", R"(HloModule m
ENTRY e {
  table = s16[7,3] parameter(0)
  ids = s64[5,1] parameter(1)
  ROOT g1 = s16[5,3] gather(table, ids), offset_dims={1}, collapsed_slice_dims={0}, start_index_map={0}, index_vector_dim=1, slice_sizes={1,3}
})"));
  cases.push_back(Make("2-D windows, unsigned starts", R"(HloModule m
ENTRY e {
  x = f32[9,8] parameter(0)
  at = u32[7,2] parameter(1)
  ROOT g2 = f32[7,2,3] gather(x, at), offset_dims={1,2}, collapsed_slice_dims={}, start_index_map={0,1}, index_vector_dim=1, slice_sizes={2,3}
})"));
  cases.push_back(Make("columns, offset dim first", R"(HloModule m
ENTRY e {
  x = bf16[10,6] parameter(0)
  c = u8[4] parameter(1)
  ROOT g3 = bf16[10,4] gather(x, c), offset_dims={0}, collapsed_slice_dims={1}, start_index_map={1}, index_vector_dim=1, slice_sizes={10,1}
})"));
  cases.push_back(Make("gather scaled in one kernel", R"(HloModule m
ENTRY e {
  table = f32[16,8] parameter(0)
  ids = s32[3,5] parameter(1)
  w = f32[3,5,8] parameter(2)
  g = f32[3,5,8] gather(table, ids), offset_dims={2}, collapsed_slice_dims={0}, start_index_map={0}, index_vector_dim=2, slice_sizes={1,8}
  ROOT g4 = f32[3,5,8] multiply(g, w)
})"));
  RunCases(cases);
}

// Reduce-window as a loop over each element's window, in the interpreter's order (sums are
// not reassociated): pooling with strides, padding that is skipped, cumulative sums, base and
// window dilation, and a window fused with its producer and consumer.
TEST(LoopCodegen, ReduceWindowsMatchTheInterpreter) {
  auto module = [](const std::string& t, const std::string& entry) {
    std::string reducers = R"(HloModule m
max {
  a = T[] parameter(0)
  b = T[] parameter(1)
  ROOT m = T[] maximum(a, b)
}
add {
  a = T[] parameter(0)
  b = T[] parameter(1)
  ROOT s = T[] add(a, b)
}
)";
    for (size_t at = reducers.find("T[]"); at != std::string::npos; at = reducers.find("T[]")) reducers.replace(at, 1, t);
    return reducers + entry;
  };
  std::vector<Case> cases;
  cases.push_back(Make("max pool 2x2 stride 2", module("f32", R"(ENTRY e {
  x = f32[1,6,8,2] parameter(0)
  init = f32[] parameter(1)
  ROOT rw0 = f32[1,3,4,2] reduce-window(x, init), window={size=1x2x2x1 stride=1x2x2x1}, to_apply=max
})")));
  cases.push_back(Make("padded 3x3 integer sums", module("s32", R"(ENTRY e {
  x = s32[5,7] parameter(0)
  init = s32[] parameter(1)
  ROOT rw1 = s32[5,7] reduce-window(x, init), window={size=3x3 pad=1_1x1_1}, to_apply=add
})")));
  cases.push_back(Make("cumulative sum", module("f32", R"(ENTRY e {
  x = f32[4,9] parameter(0)
  zero = f32[] constant(0)
  ROOT rw2 = f32[4,9] reduce-window(x, zero), window={size=1x9 pad=0_0x8_0}, to_apply=add
})")));
  cases.push_back(Make("base and window dilation", module("f64", R"(ENTRY e {
  x = f64[6,5] parameter(0)
  init = f64[] parameter(1)
  ROOT rw3 = f64[6,3] reduce-window(x, init), window={size=2x3 stride=2x1 pad=1_1x2_0 lhs_dilate=2x1 rhs_dilate=1x2}, to_apply=add
})")));
  cases.push_back(Make("bf16 window in one kernel", module("bf16", R"(ENTRY e {
  x = bf16[8,6] parameter(0)
  y = bf16[8,6] parameter(1)
  init = bf16[] parameter(2)
  p = bf16[8,6] multiply(x, y)
  w = bf16[4,6] reduce-window(p, init), window={size=2x3 stride=2x1 pad=0_0x1_1}, to_apply=max
  one = bf16[] constant(1)
  ones = bf16[4,6] broadcast(one), dimensions={}
  ROOT rw4 = bf16[4,6] add(w, ones)
})")));
  RunCases(cases);
}

// Convolutions as loops over each element's window and input features, summed in double in
// the interpreter's order, so bit for bit: NHWC with padding, NCHW with strides in f64,
// dilations on both sides with a reversed window, feature and batch groups, and a
// convolution fused with its bias and ReLU.
TEST(LoopCodegen, ConvolutionsMatchTheInterpreter) {
  std::vector<Case> cases;
  cases.push_back(Make("NHWC 3x3, padded", R"(HloModule m
ENTRY e {
  x = f32[2,6,5,3] parameter(0)
  k = f32[3,3,3,4] parameter(1)
  ROOT cv0 = f32[2,6,5,4] convolution(x, k), window={size=3x3 pad=1_1x1_1}, dim_labels=b01f_01io->b01f
})"));
  cases.push_back(Make("NCHW strided, f64", R"(HloModule m
ENTRY e {
  x = f64[1,2,7,7] parameter(0)
  k = f64[3,2,3,2] parameter(1)
  ROOT cv1 = f64[1,3,3,4] convolution(x, k), window={size=3x2 stride=2x2 pad=0_1x1_0}, dim_labels=bf01_oi01->bf01
})"));
  cases.push_back(Make("dilated and reversed 1-D", R"(HloModule m
ENTRY e {
  x = f32[3,9,2] parameter(0)
  k = f32[3,2,2] parameter(1)
  ROOT cv2 = f32[3,17,2] convolution(x, k), window={size=3 pad=2_2 lhs_dilate=2 rhs_dilate=2 rhs_reversal=1}, dim_labels=b0f_0io->b0f
})"));
  cases.push_back(Make("depthwise (4 feature groups), strided", R"(HloModule m
ENTRY e {
  x = f32[2,4,7,7] parameter(0)
  k = f32[8,1,3,3] parameter(1)
  ROOT cv4 = f32[2,8,4,4] convolution(x, k), window={size=3x3 stride=2x2 pad=1_1x1_1}, dim_labels=bf01_oi01->bf01, feature_group_count=4
})"));
  cases.push_back(Make("batch groups (a weight gradient)", R"(HloModule m
ENTRY e {
  x = f64[2,5,4] parameter(0)
  k = f64[2,2,4] parameter(1)
  ROOT cv5 = f64[1,4,4] convolution(x, k), window={size=2}, dim_labels=f0b_i0o->b0f, batch_group_count=4
})"));
  cases.push_back(Make("convolution, bias and ReLU in one kernel", R"(HloModule m
ENTRY e {
  x = f32[1,5,5,2] parameter(0)
  k = f32[3,3,2,3] parameter(1)
  bias = f32[3] parameter(2)
  c = f32[1,5,5,3] convolution(x, k), window={size=3x3 pad=1_1x1_1}, dim_labels=b01f_01io->b01f
  bb = f32[1,5,5,3] broadcast(bias), dimensions={3}
  a = f32[1,5,5,3] add(c, bb)
  zero = f32[] constant(0)
  z = f32[1,5,5,3] broadcast(zero), dimensions={}
  ROOT cv3 = f32[1,5,5,3] maximum(a, z)
})"));
  RunCases(cases);
}

// Scatters as one sequential launch row: the operand copied, then every update combined in
// row-major order (so repeated indices combine as the interpreter combines them, and the last
// assignment wins), windows that do not fit skipped (the edge values put INT_MIN and INT_MAX
// among the indices), with the updates computed in the same kernel.
TEST(LoopCodegen, ScattersMatchTheInterpreter) {
  const std::string reducers = R"(HloModule m
add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT s = f32[] add(a, b)
}
max16 {
  a = s16[] parameter(0)
  b = s16[] parameter(1)
  ROOT m = s16[] maximum(a, b)
}
assign {
  a = f32[] parameter(0)
  ROOT b = f32[] parameter(1)
}
)";
  std::vector<Case> cases;
  cases.push_back(Make("row sums, repeated and wild indices", reducers + R"(ENTRY e {
  x = f32[8,5] parameter(0)
  idx = s32[30] parameter(1)
  u = f32[30,5] parameter(2)
  ROOT sc0 = f32[8,5] scatter(x, idx, u), update_window_dims={1}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add
})", {false, true, false}));
  cases.push_back(Make("assignment, last one wins", reducers + R"(ENTRY e {
  x = f32[10] parameter(0)
  idx = s64[12,1] parameter(1)
  u = f32[12] parameter(2)
  ROOT sc1 = f32[10] scatter(x, idx, u), update_window_dims={}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=assign
})", {false, true, false}));
  cases.push_back(Make("2-D windows by maximum", reducers + R"(ENTRY e {
  x = s16[6,7] parameter(0)
  idx = u8[4,2] parameter(1)
  u = s16[4,2,3] parameter(2)
  ROOT sc2 = s16[6,7] scatter(x, idx, u), update_window_dims={1,2}, inserted_window_dims={}, scatter_dims_to_operand_dims={0,1}, index_vector_dim=1, to_apply=max16
})", {false, true, false}));
  cases.push_back(Make("updates computed in the kernel, wild indices", reducers + R"(ENTRY e {
  x = f32[6,4] parameter(0)
  idx = s32[9] parameter(1)
  a = f32[9,4] parameter(2)
  b = f32[9,4] parameter(3)
  u = f32[9,4] multiply(a, b)
  ROOT sc3 = f32[6,4] scatter(x, idx, u), update_window_dims={1}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add
})"));
  RunCases(cases);
}

// Sorts long enough for several merge passes (ending in the outputs or the scratch), along
// the last dim and others, with JAX's comparators: floats in total order with -0 equal to +0
// (so ties test stability), several operands moved together, producers fused into the copy.
TEST(LoopCodegen, SortsMatchTheInterpreter) {
  const std::string comparators = R"(HloModule m
jax_lt {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  a_nan = pred[] compare(a, a), direction=NE
  nan = f32[] constant(nan)
  zero = f32[] constant(0)
  a_zero = pred[] compare(a, zero), direction=EQ
  a0 = f32[] select(a_zero, zero, a)
  a1 = f32[] select(a_nan, nan, a0)
  b_nan = pred[] compare(b, b), direction=NE
  b_zero = pred[] compare(b, zero), direction=EQ
  b0 = f32[] select(b_zero, zero, b)
  b1 = f32[] select(b_nan, nan, b0)
  ROOT lt = pred[] compare(a1, b1), direction=LT, type=TOTALORDER
}
by_key_gt {
  a = s16[] parameter(0)
  b = s16[] parameter(1)
  c = f64[] parameter(2)
  d = f64[] parameter(3)
  ROOT gt = pred[] compare(a, b), direction=GT
}
by_second {
  a = bf16[] parameter(0)
  b = bf16[] parameter(1)
  c = u8[] parameter(2)
  d = u8[] parameter(3)
  e = s32[] parameter(4)
  f = s32[] parameter(5)
  ROOT lt = pred[] compare(c, d), direction=LT
}
)";
  std::vector<Case> cases;
  cases.push_back(Make("f32 rows of 1000 in total order", comparators + R"(ENTRY e {
  x = f32[4,1000] parameter(0)
  ROOT s0 = f32[4,1000] sort(x), dimensions={1}, is_stable=true, to_apply=jax_lt
})"));
  cases.push_back(Make("argsort along dim 0, iota fused", comparators + R"(jax_lt2 {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  c = s32[] parameter(2)
  d = s32[] parameter(3)
  ROOT lt = pred[] compare(a, b), direction=LT, type=TOTALORDER
}
ENTRY e {
  x = f32[300,3] parameter(0)
  y = f32[300,3] negate(x)
  i = s32[300,3] iota(), iota_dimension=0
  ROOT s1 = (f32[300,3], s32[300,3]) sort(y, i), dimensions={0}, is_stable=true, to_apply=jax_lt2
})"));
  cases.push_back(Make("descending s16 keys with many ties, f64 values", comparators + R"(ENTRY e {
  k = s16[3,2,33] parameter(0)
  v = f64[3,2,33] parameter(1)
  ROOT s2 = (s16[3,2,33], f64[3,2,33]) sort(k, v), dimensions={2}, to_apply=by_key_gt
})", {true, false}));
  cases.push_back(Make("by the second operand, three moved", comparators + R"(ENTRY e {
  a = bf16[17,2] parameter(0)
  b = u8[17,2] parameter(1)
  c = s32[17,2] parameter(2)
  ROOT s3 = (bf16[17,2], u8[17,2], s32[17,2]) sort(a, b, c), dimensions={0}, to_apply=by_second
})", {false, true, false}));
  cases.push_back(Make("rows of one", comparators + R"(ENTRY e {
  x = f32[5,1] parameter(0)
  ROOT s4 = f32[5,1] sort(x), dimensions={1}, to_apply=jax_lt
})"));
  RunCases(cases);
}

// JAX's argmax (NaN wins, the first index on ties) over a middle dim, with the index iota
// fused; an argmin over the last dim of values with many ties; three arrays at once, one
// folded by a subtraction (the reducer takes the accumulator first).
TEST(LoopCodegen, VariadicReductionsMatchTheInterpreter) {
  const std::string reducers = R"(HloModule m
argmax {
  a = f32[] parameter(0)
  i = s32[] parameter(1)
  b = f32[] parameter(2)
  j = s32[] parameter(3)
  gt = pred[] compare(a, b), direction=GT
  nan = pred[] compare(a, a), direction=NE
  keep = pred[] or(gt, nan)
  v = f32[] select(keep, a, b)
  eq = pred[] compare(a, b), direction=EQ
  lt = pred[] compare(i, j), direction=LT
  tie = pred[] and(eq, lt)
  first = pred[] or(keep, tie)
  k = s32[] select(first, i, j)
  ROOT r = (f32[], s32[]) tuple(v, k)
}
argmin {
  a = s16[] parameter(0)
  i = u32[] parameter(1)
  b = s16[] parameter(2)
  j = u32[] parameter(3)
  lt = pred[] compare(a, b), direction=LT
  eq = pred[] compare(a, b), direction=EQ
  ilt = pred[] compare(i, j), direction=LT
  tie = pred[] and(eq, ilt)
  first = pred[] or(lt, tie)
  v = s16[] select(first, a, b)
  k = u32[] select(first, i, j)
  ROOT r = (s16[], u32[]) tuple(v, k)
}
three {
  a = bf16[] parameter(0)
  b = f64[] parameter(1)
  c = s8[] parameter(2)
  x = bf16[] parameter(3)
  y = f64[] parameter(4)
  z = s8[] parameter(5)
  s = bf16[] add(a, x)
  p = f64[] subtract(b, y)
  m = s8[] maximum(c, z)
  ROOT r = (bf16[], f64[], s8[]) tuple(s, p, m)
}
)";
  std::vector<Case> cases;
  cases.push_back(Make("argmax over a middle dim", reducers + R"(ENTRY e {
  x = f32[3,5,7] parameter(0)
  i = s32[5] iota(), iota_dimension=0
  b = s32[3,5,7] broadcast(i), dimensions={1}
  lo = f32[] constant(-inf)
  z = s32[] constant(0)
  ROOT v0 = (f32[3,7], s32[3,7]) reduce(x, b, lo, z), dimensions={1}, to_apply=argmax
})"));
  cases.push_back(Make("argmin with ties over the last dim", reducers + R"(ENTRY e {
  x = s16[4,90] parameter(0)
  i = u32[4,90] iota(), iota_dimension=1
  hi = s16[] constant(32767)
  z = u32[] constant(0)
  ROOT v1 = (s16[4], u32[4]) reduce(x, i, hi, z), dimensions={1}, to_apply=argmin
})", {true}));
  cases.push_back(Make("three arrays over two dims", reducers + R"(ENTRY e {
  a = bf16[2,3,4] parameter(0)
  b = f64[2,3,4] parameter(1)
  c = s8[2,3,4] parameter(2)
  ia = bf16[] parameter(3)
  ib = f64[] parameter(4)
  ic = s8[] parameter(5)
  ROOT v2 = (bf16[3], f64[3], s8[3]) reduce(a, b, c, ia, ib, ic), dimensions={0,2}, to_apply=three
})"));
  RunCases(cases);
}

// The approximations over their whole range, densely (262144 points from -110 to 90, and
// every float around the overflow and underflow edges): exp within 1 ulp of libm, tanh within
// 8, both exact at ±inf, NaN, ±0 and past the edges; for the portable CPU (a multiply and an
// add) and for this one (fused multiply-adds where it has them).
TEST(LoopCodegen, ApproximatedExpAndTanhOverTheirRange) {
  std::vector<Case> cases;
  int name = 0;
  for (const char* op : {"exponential", "tanh"}) {
    const std::string r = "r" + std::to_string(name++);
    Case c = Make(std::string("dense ") + op,
                  "HloModule m\nENTRY e {\n  a = f32[512,512] parameter(0)\n  ROOT " + r + " = f32[512,512] " + op + "(a)\n}\n");
    const int64_t n = 512 * 512;
    Literal x(Shape::Array(DType::kF32, {512, 512}));
    for (int64_t i = 0; i < n; ++i) x.Set<float>(i, -110.0f + 200.0f * static_cast<float>(i) / (n - 1));
    std::vector<float> edges = {0.0003f, -0.0004f, 7.9f, -7.95f, 0.0f, -0.0f, 1e-30f, -1e-30f, 1e-45f,
                                std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                                std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::max(), -std::numeric_limits<float>::max()};
    for (float edge : {88.72283935546875f, -103.97208f, -87.33654f, -88.8f, 88.8f, -104.0f}) {
      float v = edge;
      for (int k = 0; k < 64; ++k) v = std::nextafter(v, -1000.0f);
      for (int k = 0; k < 128; ++k, v = std::nextafter(v, 1000.0f)) edges.push_back(v);
    }
    for (size_t i = 0; i < edges.size(); ++i) x.Set<float>(static_cast<int64_t>(i * 7), edges[i]);
    c.inputs[0] = std::move(x);
    c.ulps = name == 1 ? 1 : 8;
    cases.push_back(std::move(c));
  }
  RunCases(cases);
  SCOPED_TRACE("this CPU");
  RunCases(cases, Launch{.cpu = "native"});
}

// The float exp over the float bit patterns (every 997th, all exponents and signs; every one
// with PJIT_EXHAUSTIVE=1: 85 s for both CPUs here) against libm's double exp rounded to float:
// within 1 ulp (subnormal results included), exactly 0, inf and NaN where that is; for the
// portable CPU and for this one.
TEST(LoopCodegen, ExpOverTheFloatBitPatterns) {
  auto module = testing::ParseOrDie("HloModule m\nENTRY e {\n  x = f32[1024,1024] parameter(0)\n  ROOT y = f32[1024,1024] exponential(x)\n}\n");
  ASSERT_NE(module, nullptr);
  std::vector<LoopFusion> fusions = FindLoopFusions(*module->entry);
  ASSERT_EQ(fusions.size(), 1u);
  const uint64_t stride = std::getenv("PJIT_EXHAUSTIVE") ? 1 : 997;
  for (const char* cpu : {"x86-64", "native"}) {
    SCOPED_TRACE(cpu);
    CpuCodegenOptions options;
    options.cpu = cpu;
    auto elf = CompileLoopKernels(fusions, options);
    ASSERT_TRUE(elf.ok()) << elf.status().message();
    auto library = NativeLibrary::Load(*elf, "test");
    ASSERT_TRUE(library.ok()) << library.status().message();
    auto kernel = (*library)->Kernel(fusions[0].name);
    ASSERT_TRUE(kernel.ok()) << kernel.status().message();
    const uint64_t n = uint64_t{1} << 20;
    std::vector<uint32_t> bits(n);
    std::vector<float> out(n);
    int64_t failures = 0;
    for (uint64_t first = 0; first < (uint64_t{1} << 32); first += n * stride) {
      for (uint64_t i = 0; i < n; ++i) bits[i] = static_cast<uint32_t>(first + i * stride);  // wraps past the last pattern
      std::vector<void*> args{bits.data(), out.data()};
      (*kernel)(args.data(), 0, LoopFusionRows(fusions[0]));
      for (uint64_t i = 0; i < n; ++i) {
        const float x = std::bit_cast<float>(bits[i]);
        const float want = static_cast<float>(std::exp(static_cast<double>(x)));
        const float got = out[i];
        const int64_t allowed = want == 0 || std::isinf(want) ? 0 : 1;
        const bool ok = std::isnan(want) ? std::isnan(got) : !std::isnan(got) && std::abs(OrderKey(got) - OrderKey(want)) <= allowed;
        if (!ok && ++failures <= 5) ADD_FAILURE() << "exp(" << std::hexfloat << x << ") = " << got << ", expected " << want;
      }
    }
    EXPECT_EQ(failures, 0);
  }
}

// Reductions over trailing dims, with producers fused in: the interpreter's sequential fold,
// bit-identical for integers, pred, max/min and bfloat16 (rounded after every step); float
// sums and products may be reassociated, so they are compared within a few dozen ulp.
TEST(LoopCodegen, RowReductionsMatchTheInterpreter) {
  std::vector<Case> cases;
  auto reduction = [](const std::string& name, const std::string& t, const std::string& op, const std::string& dims,
                      const std::string& in_shape, const std::string& out_shape, const std::string& init) {
    return "HloModule m\nr {\n  a = " + t + "[] parameter(0)\n  b = " + t + "[] parameter(1)\n  ROOT c = " + t + "[] " + op +
           "(a, b)\n}\nENTRY e {\n  x = " + t + in_shape + " parameter(0)\n  i = " + t + "[] " + init + "\n  ROOT " + name +
           " = " + t + out_shape + " reduce(x, i), dimensions={" + dims + "}, to_apply=r\n}\n";
  };
  // Float sums and products may be reassociated (vectorised): positive inputs, a few dozen ulp.
  cases.push_back(Make("f32 row sum", reduction("s0", "f32", "add", "1", "[7,33]", "[7]", "constant(0)"), {true}));
  cases.back().ulps = 64;
  cases.push_back(Make("f32 max over two dims", reduction("s1", "f32", "maximum", "1,2", "[3,5,9]", "[3]", "constant(-inf)")));
  // Vectorised (any order): exact all the same, signed zeros and NaNs included.
  cases.push_back(Make("f32 max over long rows", reduction("s9", "f32", "maximum", "1", "[6,100]", "[6]", "constant(-inf)")));
  cases.push_back(Make("f32 min over long rows", reduction("s10", "f32", "minimum", "1", "[6,100]", "[6]", "constant(inf)")));
  cases.push_back(Make("bf16 sum", reduction("s2", "bf16", "add", "2", "[2,3,40]", "[2,3]", "constant(0)")));
  cases.push_back(Make("f16 sum", reduction("s11", "f16", "add", "1", "[5,40]", "[5]", "constant(0)")));
  cases.push_back(Make("f16 max over long rows", reduction("s12", "f16", "maximum", "1", "[6,100]", "[6]", "constant(-inf)")));
  cases.push_back(Make("f64 product", reduction("s3", "f64", "multiply", "1", "[4,6]", "[4]", "constant(1)"), {true}));
  cases.back().ulps = 64;
  cases.push_back(Make("s32 min", reduction("s4", "s32", "minimum", "0", "[50]", "[]", "constant(2147483647)")));
  cases.push_back(Make("u8 sum wraps", reduction("s5", "u8", "add", "1", "[4,90]", "[4]", "constant(0)")));
  cases.push_back(Make("pred any", reduction("s6", "pred", "or", "1", "[6,5]", "[6]", "constant(false)")));
  cases.push_back(Make("pred all", reduction("s7", "pred", "and", "1", "[6,5]", "[6]", "constant(true)")));
  cases.push_back(Make("empty", reduction("s8", "f32", "add", "1", "[3,0]", "[3]", "constant(1.5)")));
  cases.push_back(Make("softmax denominator", "HloModule m\n" + kAdd + R"(ENTRY e {
  x = f32[8,19] parameter(0)
  mx = f32[8] parameter(1)
  init = f32[] parameter(2)
  bm = f32[8,19] broadcast(mx), dimensions={0}
  d = f32[8,19] subtract(x, bm)
  ex = f32[8,19] exponential(d)
  ROOT den = f32[8] reduce(ex, init), dimensions={1}, to_apply=add
})"));
  cases.back().ulps = 64;  // exp is approximated; the sum of 19 of them moves by more ulps
  // Rows whose extreme is a zero, with +0 and -0 in the orders a vectorised fold that ignores
  // zero signs gets wrong (+0 then -0 in one lane for max): -0 < +0 decides, whatever the order.
  for (const char* op : {"maximum", "minimum"}) {
    const bool max = std::string(op) == "maximum";
    cases.push_back(Make(std::string("f32 ") + op + " of signed zeros",
                         reduction(max ? "z0" : "z1", "f32", op, "1", "[8,100]", "[8]", max ? "constant(-inf)" : "constant(inf)")));
    Literal x(Shape::Array(DType::kF32, {8, 100}));
    const float away = max ? -1.0f : 1.0f, wins = max ? 0.0f : -0.0f, loses = max ? -0.0f : 0.0f;
    for (int64_t i = 0; i < 800; ++i) x.Set<float>(i, away);
    auto at = [&](int64_t row, std::initializer_list<std::pair<int64_t, float>> values) {
      for (auto [col, v] : values) x.Set<float>(row * 100 + col, v);
    };
    at(0, {{0, wins}, {16, loses}, {32, loses}});
    at(1, {{0, loses}, {16, wins}});
    at(2, {{0, loses}, {1, loses}, {50, loses}});
    at(3, {{5, wins}, {37, loses}, {69, loses}, {99, loses}});
    for (int64_t col = 0; col < 99; ++col) at(4, {{col, loses}});
    at(4, {{99, wins}});
    at(5, {{0, wins}, {7, std::numeric_limits<float>::quiet_NaN()}, {16, loses}});
    at(6, {{3, loses}, {50, wins}, {66, loses}});
    at(7, {{64, wins}, {96, loses}, {98, loses}});
    cases.back().inputs[0] = std::move(x);
  }
  RunCases(cases);
}

// Reductions that keep the input's last dim (column reductions, folded row by row into the
// output in the interpreter's order, so float sums are exact too) and reductions over
// non-trailing dims that include the last one (one output element per launch row).
TEST(LoopCodegen, ColumnAndOtherReductionsMatchTheInterpreter) {
  std::vector<Case> cases;
  auto reduction = [](const std::string& name, const std::string& t, const std::string& op, const std::string& dims,
                      const std::string& in_shape, const std::string& out_shape, const std::string& init, const std::string& producer = "") {
    std::string x = producer.empty() ? "x" : "y";
    return "HloModule m\nr {\n  a = " + t + "[] parameter(0)\n  b = " + t + "[] parameter(1)\n  ROOT c = " + t + "[] " + op +
           "(a, b)\n}\nENTRY e {\n  x = " + t + in_shape + " parameter(0)\n" +
           (producer.empty() ? "" : "  y = " + t + in_shape + " " + producer + "\n") + "  i = " + t + "[] " + init + "\n  ROOT " +
           name + " = " + t + out_shape + " reduce(" + x + ", i), dimensions={" + dims + "}, to_apply=r\n}\n";
  };
  cases.push_back(Make("f32 column sum", reduction("c0", "f32", "add", "0", "[64,37]", "[37]", "constant(0)")));
  cases.push_back(Make("f32 middle max", reduction("c1", "f32", "maximum", "1", "[3,5,7]", "[3,7]", "constant(-inf)")));
  cases.push_back(Make("bf16 column sum", reduction("c2", "bf16", "add", "0,1", "[4,6,9]", "[9]", "constant(0)")));
  cases.push_back(Make("s32 sum over dims 0 and 2", reduction("c3", "s32", "add", "0,2", "[4,5,6]", "[5]", "constant(0)")));
  cases.push_back(Make("f32 sum of squares by column", reduction("c4", "f32", "add", "0", "[9,33]", "[33]", "constant(0)",
                                                                 "multiply(x, x)")));
  cases.push_back(Make("long kept dim cut into blocks", reduction("c5", "f32", "add", "0", "[3,20000]", "[20000]", "constant(0)")));
  cases.push_back(Make("no reduced dims", reduction("c6", "f32", "add", "", "[4,3]", "[4,3]", "constant(1)")));
  cases.push_back(Make("empty column", reduction("c7", "f32", "add", "0", "[0,5]", "[5]", "constant(2.5)")));
  cases.push_back(Make("u8 column product", reduction("c8", "u8", "multiply", "0", "[5,17]", "[17]", "constant(1)")));
  cases.push_back(Make("pred column all", reduction("c9", "pred", "and", "0", "[6,10]", "[10]", "constant(true)")));
  RunCases(cases);
}

// Random values of moderate size (the realistic range of a softmax or layernorm input).
Literal Moderate(const Shape& shape, uint32_t seed) {
  Literal l(shape);
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 3.0);
  for (int64_t i = 0; i < l.element_count(); ++i) l.SetFromDouble(i, normal(rng));
  return l;
}

// Softmax over the last dim of f32[rows, cols] as JAX lowers it (the row max reshaped to
// [rows, 1] and back before its broadcast).
std::string SoftmaxModule(int64_t rows, int64_t cols) {
  const std::string r = std::to_string(rows), rc = r + "," + std::to_string(cols);
  return "HloModule m\n" + kMax + kAdd + "ENTRY e {\n  x = f32[" + rc + "] parameter(0)\n  ninf = f32[] constant(-inf)\n" +
         "  mx = f32[" + r + "] reduce(x, ninf), dimensions={1}, to_apply=max\n  r1 = f32[" + r + ",1] reshape(mx)\n" +
         "  b1 = f32[" + r + ",1] broadcast(r1), dimensions={0,1}\n  r2 = f32[" + r + "] reshape(b1)\n" +
         "  bm = f32[" + rc + "] broadcast(r2), dimensions={0}\n  d = f32[" + rc + "] subtract(x, bm)\n" +
         "  ex = f32[" + rc + "] exponential(d)\n  zero = f32[] constant(0)\n" +
         "  sum = f32[" + r + "] reduce(ex, zero), dimensions={1}, to_apply=add\n" +
         "  bs = f32[" + rc + "] broadcast(sum), dimensions={0}\n  ROOT sm = f32[" + rc + "] divide(ex, bs)\n}\n";
}

// Kernels with row values: reductions folded per row inside the kernel (also under a
// transposing broadcast and under a reduction root), the ops after them once per row.
TEST(LoopCodegen, RowValuesMatchTheInterpreter) {
  std::vector<Case> cases;
  cases.push_back(Make("softmax", SoftmaxModule(6, 37)));
  cases.push_back(Make("layernorm", "HloModule m\n" + kAdd + R"(ENTRY e {
  x = f32[5,40] parameter(0)
  g = f32[40] parameter(1)
  zero = f32[] constant(0)
  n = f32[] constant(40)
  eps = f32[] constant(1e-05)
  s = f32[5] reduce(x, zero), dimensions={1}, to_apply=add
  bn = f32[5] broadcast(n), dimensions={}
  mean = f32[5] divide(s, bn)
  bmean = f32[5,40] broadcast(mean), dimensions={0}
  c = f32[5,40] subtract(x, bmean)
  sq = f32[5,40] multiply(c, c)
  ss = f32[5] reduce(sq, zero), dimensions={1}, to_apply=add
  var = f32[5] divide(ss, bn)
  be = f32[5] broadcast(eps), dimensions={}
  ve = f32[5] add(var, be)
  rs = f32[5] rsqrt(ve)
  brs = f32[5,40] broadcast(rs), dimensions={0}
  nx = f32[5,40] multiply(c, brs)
  bg = f32[5,40] broadcast(g), dimensions={1}
  ROOT ln = f32[5,40] multiply(nx, bg)
})"));
  cases.push_back(Make("row sums through a transposing broadcast", "HloModule m\n" + kAdd + R"(ENTRY e {
  x = f32[4,3,8] parameter(0)
  y = f32[3,4,8] parameter(1)
  zero = f32[] constant(0)
  s = f32[3,4] reduce(y, zero), dimensions={2}, to_apply=add
  t = f32[3,4] tanh(s)
  bt = f32[4,3,8] broadcast(t), dimensions={1,0}
  ROOT o = f32[4,3,8] add(x, bt)
})"));
  cases.push_back(Make("variance as the root", "HloModule m\n" + kAdd + R"(ENTRY e {
  x = f32[7,33] parameter(0)
  zero = f32[] constant(0)
  s = f32[7] reduce(x, zero), dimensions={1}, to_apply=add
  bs = f32[7,33] broadcast(s), dimensions={0}
  c = f32[7,33] subtract(x, bs)
  sq = f32[7,33] multiply(c, c)
  ROOT v = f32[7] reduce(sq, zero), dimensions={1}, to_apply=add
})"));
  cases.push_back(Make("a row value from an input", R"(HloModule m
ENTRY e {
  x = f32[5,29] parameter(0)
  y = f32[5] parameter(1)
  ey = f32[5] exponential(y)
  b = f32[5,29] broadcast(ey), dimensions={0}
  ROOT o2 = f32[5,29] multiply(x, b)
})"));
  for (Case& c : cases) {
    for (Literal& in : c.inputs) in = Moderate(in.shape(), static_cast<uint32_t>(in.element_count() + c.label.size()));
    c.ulps = 64;  // exp and tanh are approximated and the sums reassociated
  }
  RunCases(cases);
  for (const Case& c : cases) {
    std::vector<LoopFusion> f = FindLoopFusions(*c.module->entry);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_FALSE(f[0].row_values.empty()) << c.label;
  }
}

// A row reduction read at shifted rows (a slice with a start) is not the row's value: it
// keeps its own kernel, and the slice of it is what the consumer computes once per row.
TEST(LoopFusion, ARowReductionReadAtOtherRowsKeepsItsKernel) {
  auto m = testing::ParseOrDie("HloModule m\n" + kAdd + R"(ENTRY e {
  x = f32[6,8] parameter(0)
  y = f32[4,8] parameter(1)
  z = f32[] constant(0)
  s = f32[6] reduce(x, z), dimensions={1}, to_apply=add
  sl = f32[4] slice(s), slice={[2:6]}
  e = f32[4] exponential(sl)
  b = f32[4,8] broadcast(e), dimensions={0}
  ROOT r = f32[4,8] add(y, b)
})");
  ASSERT_NE(m, nullptr);
  std::vector<LoopFusion> f = FindLoopFusions(*m->entry);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].root->name, "s");
  EXPECT_EQ(f[1].root->name, "r");
  ASSERT_EQ(f[1].row_values.size(), 2u);
  EXPECT_EQ(f[1].row_values[0]->name, "sl");
  EXPECT_EQ(f[1].row_values[1]->name, "e");
}

// A kernel that runs loops of its own (here a scatter) takes no row values: a full reduction
// broadcast into its updates keeps its own kernel (it once joined as a row value the scatter
// never computed, and pjit-compile crashed).
TEST(LoopFusion, AScatterTakesNoRowValues) {
  auto m = testing::ParseOrDie(R"(HloModule m
add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT s = f32[] add(a, b)
}
ENTRY e {
  x = f32[8,5] parameter(0)
  idx = s32[3] parameter(1)
  v = f32[5] parameter(2)
  z = f32[] constant(0)
  r = f32[] reduce(v, z), dimensions={0}, to_apply=add
  u = f32[3,5] broadcast(r), dimensions={}
  ROOT sc = f32[8,5] scatter(x, idx, u), update_window_dims={1}, inserted_window_dims={0}, scatter_dims_to_operand_dims={0}, index_vector_dim=1, to_apply=add
})");
  ASSERT_NE(m, nullptr);
  std::vector<LoopFusion> f = FindLoopFusions(*m->entry);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].root->name, "r");
  EXPECT_EQ(f[1].root->name, "sc");
  EXPECT_TRUE(f[1].row_values.empty());
}

// Multi-output fusion: elementwise kernels of one shape that read a common input become one
// kernel writing each of them, of any element types, with producers they share computed once
// per element, row values included (a softmax beside a plain exp of the same rows).
TEST(LoopCodegen, SiblingKernelsShareOneLoopAndMatchTheInterpreter) {
  std::vector<Case> cases;
  cases.push_back(Make("three siblings", R"(HloModule m
ENTRY e {
  x = f32[7,33] parameter(0)
  y = f32[7,33] parameter(1)
  s = f32[7,33] sine(x)
  c = s32[7,33] convert(x)
  m = f32[7,33] multiply(x, y)
  l = pred[7,33] compare(m, y), direction=LT
  ROOT t = (f32[7,33], s32[7,33], pred[7,33]) tuple(s, c, l)
})"));
  cases.push_back(Make("softmax beside exp", "HloModule m\n" + kMax + kAdd + R"(ENTRY e {
  x = f32[5,40] parameter(0)
  ex = f32[5,40] exponential(x)
  ninf = f32[] constant(-inf)
  mx = f32[5] reduce(x, ninf), dimensions={1}, to_apply=max
  mb = f32[5,40] broadcast(mx), dimensions={0}
  d = f32[5,40] subtract(x, mb)
  de = f32[5,40] exponential(d)
  z = f32[] constant(0)
  sm = f32[5] reduce(de, z), dimensions={1}, to_apply=add
  sb = f32[5,40] broadcast(sm), dimensions={0}
  sf = f32[5,40] divide(de, sb)
  ROOT t = (f32[5,40], f32[5,40]) tuple(ex, sf)
})"));
  cases.back().ulps = 64;  // exp is approximated and the sum reassociated
  RunCases(cases);
  std::vector<LoopFusion> f = FindLoopFusions(*cases[0].module->entry);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].root->name, "l");
  ASSERT_EQ(f[0].siblings.size(), 2u);
  EXPECT_EQ(f[0].siblings[0]->name, "s");
  EXPECT_EQ(f[0].siblings[1]->name, "c");
  ASSERT_EQ(f[0].inputs.size(), 2u) << "x is read once";
}

// Kernels of elementwise roots whose outputs reach CpuCodegenOptions::stream_bytes write
// them with non-temporal stores where every output is 64-byte aligned: the streamed copy (on
// the host allocator's aligned blocks) and the plain one (outputs off a cache line) both match
// the interpreter; a softmax keeps its exp row on the stack instead of the output row; the
// machine code has non-temporal stores and a store fence only at or above the threshold.
TEST(LoopCodegen, StreamedStoresMatchTheInterpreter) {
  std::vector<Case> cases;
  cases.push_back(Make("softmax", SoftmaxModule(6, 64)));
  cases.push_back(Make("rows less their maximum, times a vector", "HloModule m\n" + kMax + R"(ENTRY e {
  x = f32[5,48] parameter(0)
  g = f32[48] parameter(1)
  ninf = f32[] constant(-inf)
  mx = f32[5] reduce(x, ninf), dimensions={1}, to_apply=max
  bs = f32[5,48] broadcast(mx), dimensions={0}
  c = f32[5,48] subtract(x, bs)
  bg = f32[5,48] broadcast(g), dimensions={1}
  ROOT o = f32[5,48] multiply(c, bg)
})"));
  cases.push_back(Make("bfloat16", R"(HloModule m
ENTRY e {
  x = bf16[4,96] parameter(0)
  y = bf16[4,96] parameter(1)
  ROOT z = bf16[4,96] multiply(x, y)
})"));
  cases.push_back(Make("siblings", R"(HloModule m
ENTRY e {
  x = f32[3,64] parameter(0)
  y = f32[3,64] parameter(1)
  s = f32[3,64] add(x, y)
  c = s32[3,64] convert(x)
  l = pred[3,64] compare(x, y), direction=LT
  ROOT t = (f32[3,64], s32[3,64], pred[3,64]) tuple(s, c, l)
})"));
  cases.push_back(Make("a row cut into blocks", R"(HloModule m
ENTRY e {
  x = f32[40000] parameter(0)
  t = f32[40000] tanh(x)
  ROOT blocked = f32[40000] multiply(t, x)
})"));
  for (Case& c : cases) {
    for (Literal& in : c.inputs) in = Moderate(in.shape(), static_cast<uint32_t>(in.element_count() + c.label.size()));
    c.ulps = 64;  // exp and tanh are approximated and the sums reassociated
  }
  {
    SCOPED_TRACE("aligned outputs");
    RunCases(cases, Launch{.stream_bytes = 1});
  }
  {
    SCOPED_TRACE("this CPU");
    RunCases(cases, Launch{.cpu = "native", .stream_bytes = 1});
  }
  {
    SCOPED_TRACE("misaligned outputs");
    RunCases(cases, Launch{.stream_bytes = 1, .misaligned_outputs = true});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    std::vector<LoopFusion> f = FindLoopFusions(*c.module->entry);
    ASSERT_EQ(f.size(), 1u);
    uint64_t bytes = 0;
    for (const Shape* leaf : LeafShapes(c.module->entry->root->shape)) bytes += static_cast<uint64_t>(leaf->ByteSize());
    for (uint64_t threshold : {bytes, bytes + 1}) {
      auto assembly = LoopKernelsAssembly(f, CpuCodegenOptions{.cpu = "x86-64-v4", .stream_bytes = threshold});
      ASSERT_TRUE(assembly.ok()) << assembly.status().message();
      const bool streamed = threshold == bytes;
      // x86 has no non-temporal truncating store: bfloat16 results packed from floats stream
      // only where LLVM joins the packs into whole vectors (it does for a bf16 multiply-add over
      // [8192,1024], not for a lone multiply), so they are checked for their values alone.
      if (c.label != "bfloat16") {
        EXPECT_EQ(assembly->find("vmovnt") != std::string::npos, streamed) << "threshold " << threshold;
      }
      EXPECT_EQ(assembly->find("sfence") != std::string::npos, streamed) << "threshold " << threshold;
    }
  }
}

// Siblings merge only where the later kernel runs before anything reads the earlier one's
// output: not when the later kernel reads it, nor when a dot reads it in between; roots of
// other dims, reductions and kernels reading nothing in common keep their own kernels.
TEST(LoopFusion, SiblingsMergeOnlyWhenTheEarlierOutputIsReadAfterwards) {
  auto m = testing::ParseOrDie("HloModule m\n" + kAdd + R"(ENTRY e {
  x = f32[4,4] parameter(0)
  w = f32[4,4] parameter(1)
  v = f32[4,4] parameter(2)
  a = f32[4,4] exponential(x)
  d = f32[4,4] dot(a, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  b = f32[4,4] sine(x)
  p = f32[4,4] add(a, x)
  q = f32[4,4] multiply(a, p)
  z = f32[] constant(0)
  r = f32[4] reduce(x, z), dimensions={1}, to_apply=add
  tr = f32[4,4] transpose(x), dimensions={1,0}
  ts = f32[2,4] slice(tr), slice={[0:2], [0:4]}
  k = f32[4,4] cosine(v)
  ROOT t = (f32[4,4], f32[4,4], f32[4,4], f32[4,4], f32[4], f32[2,4], f32[4,4]) tuple(d, b, p, q, r, ts, k)
})");
  ASSERT_NE(m, nullptr);
  std::vector<LoopFusion> f = FindLoopFusions(*m->entry);
  std::vector<std::string> kernels;
  for (const LoopFusion& k : f) {
    std::string name = k.root->name;
    for (const Instruction* s : k.siblings) name += "+" + s->name;
    kernels.push_back(name);
  }
  // b takes no part in a's kernel (the dot reads a before b runs) but p's takes b (it runs
  // where p is, and the result is the only reader of b); q reads p (and a) so runs alone.
  EXPECT_THAT(kernels, ::testing::ElementsAre("a", "p+b", "q", "r", "ts", "k"));
}

// JAX's softmax and layernorm (the benchmark's HLO): one kernel each, the row reductions
// (max and sum; mean and variance) and what follows from them computed once per row.
TEST(LoopFusion, SoftmaxAndLayernormAreOneKernelEach) {
  for (const char* name : {"softmax", "layernorm"}) {
    SCOPED_TRACE(name);
    auto m = testing::ParseOrDie(*ReadFileToString(std::string(PJIT_TESTDATA_DIR) + "/../tests/bench/cases/" + name + ".hlo"));
    ASSERT_NE(m, nullptr);
    std::vector<LoopFusion> f = FindLoopFusions(*m->entry);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].root, m->entry->root);
    int reductions = 0;
    for (const Instruction* v : f[0].row_values) reductions += v->opcode == Opcode::kReduce;
    EXPECT_EQ(reductions, 2);
  }
}

// The pipeline tells its progress callback each pass in order and counts every kernel.
TEST(LoopCodegen, CompileReportsProgressAndPassTimes) {
  CompileOptions options;
  options.input = std::string(PJIT_TESTDATA_DIR) + "/layernorm.hlo";
  options.output = (std::filesystem::temp_directory_path() / ("pjit_progress_" + std::to_string(::getpid()) + ".pjit")).string();
  std::mutex mu;
  std::vector<std::string> passes;
  int64_t last_done = 0, total = 0;
  options.progress = [&](const std::string& pass, int64_t done, int64_t all) {
    std::lock_guard<std::mutex> lock(mu);
    if (all == 0) passes.push_back(pass);
    else last_done = std::max(last_done, done), total = all;
  };
  auto report = Compile(options);
  ASSERT_TRUE(report.ok()) << report.status().message();
  std::filesystem::remove(options.output);
  EXPECT_THAT(passes, ::testing::ElementsAre("parse and verify", "inline calls", "layout normalisation", "sharding propagation", "spmd partitioning",
                                             "simplification (constant folding, algebra, CSE, DCE)",
                                             "loop fusion", "thunk lowering and buffer assignment", "x86-64 code generation",
                                             "write artifact"));
  EXPECT_GT(total, 0);
  EXPECT_EQ(last_done, total);
  ASSERT_EQ(report->pass_seconds.size(), passes.size());
}

TEST(LoopCodegen, CpuChoices) {
  EXPECT_TRUE(ResolveCpu("x86-64-v3").ok());
  EXPECT_TRUE(ResolveCpu("native").ok());
  auto bad = ResolveCpu("pentium-9000");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("--cpu 'pentium-9000': not a CPU LLVM knows"));
}

// What LLVM says a CPU model has, the runtime can check with cpuid: code for this machine
// ("native") passes the check, code that needs something it lacks is refused by name.
TEST(LoopCodegen, CpuFeaturesAreRecordedAndChecked) {
  EXPECT_THAT(CpuFeatures("x86-64-v3"), ::testing::IsSupersetOf({"avx", "avx2", "fma", "bmi2"}));
  EXPECT_THAT(CpuFeatures("x86-64-v3"), ::testing::Not(::testing::Contains("avx512f")));
  EXPECT_THAT(CpuFeatures("x86-64-v4"), ::testing::Contains("avx512f"));
  EXPECT_THAT(CpuFeatures("x86-64"), ::testing::IsEmpty());
  auto native = ResolveCpu("native");
  ASSERT_TRUE(native.ok());
  ExecutableInfo e{"x86_64", "elf", {}, {}, *native, CpuFeatures(*native), {}};
  for (const std::string& f : e.cpu_features) EXPECT_EQ(CpuSupports(f), std::optional<bool>(true)) << f;
  EXPECT_TRUE(CheckCpuFeatures(e, "m.pjit").ok());
  e.cpu_features = {"warp-drive"};
  EXPECT_THAT(CheckCpuFeatures(e, "m.pjit").message(), HasSubstr("needs CPU feature 'warp-drive', which this pjit cannot check"));
  for (const std::string& f : CpuFeatures("sapphirerapids"))
    if (!*CpuSupports(f)) {
      e.cpu = "sapphirerapids";
      e.cpu_features = {f};
      EXPECT_THAT(CheckCpuFeatures(e, "m.pjit").message(), HasSubstr("compiled for sapphirerapids and needs " + f + ", which this CPU lacks"));
    }
}

TEST(LoopCodegen, DamagedBinaryIsAClearError) {
  auto library = NativeLibrary::Load("not an ELF file", "m.pjit");
  ASSERT_FALSE(library.ok());
  EXPECT_THAT(library.status().message(), HasSubstr("m.pjit: section 'executables': the x86_64 binary does not load"));
}

}  // namespace
}  // namespace pjit
