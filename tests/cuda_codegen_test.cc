// The CUDA back end without a GPU: every testdata module compiles for cpu and cuda into one
// artifact whose PTX ptxas accepts for each architecture (when the CUDA Toolkit is here),
// whose loop executables list the same kernels with the threads each launch needs, and
// which is byte-identical when compiled again. What the kernels compute is checked by
// codegen_test, which runs the GPU's launch rows through the same emitter on the CPU, and
// on a GPU by cuda_runtime_test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "compile/cuda_toolkit.h"
#include "compile/kernel_fusion.h"
#include "compile/nvptx_codegen.h"
#include "compile/pipeline.h"
#include "format/artifact_reader.h"
#include "format/file_util.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

using ::testing::HasSubstr;

class CudaCodegen : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TemporaryDirectory::Create("cuda-codegen-test");
    ASSERT_TRUE(dir.ok()) << dir.status().message();
    dir_ = std::make_unique<TemporaryDirectory>(std::move(*dir));
  }
  std::string Out(const std::string& name) const { return dir_->Path(name); }
  std::unique_ptr<TemporaryDirectory> dir_;
};

CompileOptions CudaOptions(const std::string& input, const std::string& output) {
  CompileOptions o;
  o.input = input;
  o.output = output;
  o.targets = {"cpu", "cuda"};
  return o;
}

TEST_F(CudaCodegen, EveryTestdataModuleCompilesForCpuAndCuda) {
  const CudaToolkit toolkit = FindCudaToolkit();
  if (toolkit.libdevice.empty()) GTEST_SKIP() << "no CUDA Toolkit (libdevice) here";
  int with_kernels = 0;
  for (const std::string& name : testing::TestdataModules()) {
    SCOPED_TRACE(name);
    CompileOptions options = CudaOptions(testing::TestdataPath(name + ".hlo"), Out(name + ".pjit"));
    auto report = Compile(options);
    ASSERT_TRUE(report.ok()) << report.status().message();
    auto reader = ArtifactReader::Open(options.output);
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    auto plan = (*reader)->LoadThunks();
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    const ExecutableInfo* x86 = FindExecutable(plan->executables, "x86_64", "elf");
    const ExecutableInfo* ptx = FindExecutable(plan->executables, "nvptx", "ptx");
    if (!x86) {
      EXPECT_EQ(ptx, nullptr) << "PTX without loop kernels";
      continue;
    }
    ++with_kernels;
    ASSERT_NE(ptx, nullptr);
    EXPECT_EQ(&plan->executables[1], x86) << "thunks name the first loop executable";
    EXPECT_EQ(ptx->kernels, x86->kernels);
    ASSERT_EQ(ptx->launches.size(), ptx->kernels.size());
    for (size_t k = 0; k < ptx->kernels.size(); ++k) {
      EXPECT_THAT(ptx->binary, HasSubstr(".entry " + CudaKernelSymbol(ptx->kernels[k]) + "(")) << ptx->kernels[k];
      ASSERT_EQ(ptx->launches[k].size(), 1u);
      EXPECT_GT(ptx->launches[k][0], 0u) << ptx->kernels[k];
    }
    EXPECT_THAT(ptx->binary, HasSubstr(".target sm_80"));
    if (toolkit.ptxas.empty()) continue;
    for (const char* arch : {"sm_80", "sm_90"}) {
      const ExecutableInfo* cubin = FindExecutable(plan->executables, arch, "cubin");
      ASSERT_NE(cubin, nullptr) << arch;
      EXPECT_EQ(cubin->kernels, x86->kernels);
      EXPECT_EQ(cubin->launches, ptx->launches);
      // An ELF for NVIDIA GPUs (e_machine 190, EM_CUDA).
      ASSERT_GT(cubin->binary.size(), 20u);
      EXPECT_EQ(cubin->binary.substr(0, 4), "\x7f" "ELF");
      EXPECT_EQ(static_cast<unsigned char>(cubin->binary[18]), 190u);
    }
  }
  EXPECT_GT(with_kernels, 10);
}

// The GPU launches a thread per element of an elementwise root and a warp per output element
// of a row reduction; kernel launch rows of the CPU stay as they were.
TEST_F(CudaCodegen, ThreadsPerLaunch) {
  auto module = testing::ParseOrDie(R"(HloModule m
add {
  p = f32[] parameter(0)
  q = f32[] parameter(1)
  ROOT s = f32[] add(p, q)
}
ENTRY e {
  x = f32[64,40000] parameter(0)
  t = f32[64,40000] tanh(x)
  y = f32[64,40000] multiply(t, t)
  c = f32[] constant(0)
  r = f32[64] reduce(x, c), dimensions={1}, to_apply=add
  ROOT out = (f32[64], f32[64,40000]) tuple(r, y)
})");
  ASSERT_NE(module, nullptr);
  std::vector<LoopFusion> fusions = FindLoopFusions(*module->entry);
  ASSERT_EQ(fusions.size(), 2u);
  ASSERT_EQ(fusions[0].root->name, "y");
  EXPECT_EQ(CudaKernelThreads(fusions[1]), 64u * 32u);
  EXPECT_EQ(CudaKernelThreads(fusions[0]), 64u * 40000u);
  EXPECT_EQ(LoopFusionRows(fusions[0]), 64 * 5);  // the CPU's blocks of 8192
  EXPECT_EQ(LoopFusionLanes(fusions[1]), 1);      // the CPU's: one thread per row
}

// Softmax is one kernel of a warp per row: the lanes' partial max and sum combine through
// butterfly shuffles, and a reduction over fewer elements than a warp keeps a thread per row.
TEST_F(CudaCodegen, RowReductionsShareAWarpAndShuffle) {
  auto module = testing::ParseOrDie(R"(HloModule m
max {
  p = f32[] parameter(0)
  q = f32[] parameter(1)
  ROOT m = f32[] maximum(p, q)
}
add {
  p = f32[] parameter(0)
  q = f32[] parameter(1)
  ROOT s = f32[] add(p, q)
}
ENTRY e {
  x = f32[128,1000] parameter(0)
  ninf = f32[] constant(-inf)
  m = f32[128] reduce(x, ninf), dimensions={1}, to_apply=max
  mb = f32[128,1000] broadcast(m), dimensions={0}
  d = f32[128,1000] subtract(x, mb)
  e = f32[128,1000] exponential(d)
  z = f32[] constant(0)
  s = f32[128] reduce(e, z), dimensions={1}, to_apply=add
  sb = f32[128,1000] broadcast(s), dimensions={0}
  y = f32[128,1000] divide(e, sb)
  small = f32[8,16] parameter(1)
  r = f32[8] reduce(small, z), dimensions={1}, to_apply=add
  ROOT out = (f32[128,1000], f32[8]) tuple(y, r)
})");
  ASSERT_NE(module, nullptr);
  std::vector<LoopFusion> fusions = FindLoopFusions(*module->entry);
  ASSERT_EQ(fusions.size(), 2u);
  EXPECT_EQ(fusions[0].root->name, "y");
  EXPECT_EQ(CudaKernelThreads(fusions[0]), 128u * 32u);
  EXPECT_EQ(CudaKernelThreads(fusions[1]), 8u);
  const CudaToolkit toolkit = FindCudaToolkit();
  if (toolkit.libdevice.empty()) GTEST_SKIP() << "no CUDA Toolkit (libdevice) here";
  auto kernels = CompileCudaKernels({fusions[0]}, CudaCodegenOptions{}, toolkit);
  ASSERT_TRUE(kernels.ok()) << kernels.status().message();
  EXPECT_THAT(kernels->ptx, HasSubstr("shfl.sync.bfly.b32"));
  auto single = CompileCudaKernels({fusions[1]}, CudaCodegenOptions{}, toolkit);
  ASSERT_TRUE(single.ok()) << single.status().message();
  EXPECT_THAT(single->ptx, ::testing::Not(HasSubstr("shfl.sync")));
}

TEST_F(CudaCodegen, ArchitecturesAreCheckedAndSorted) {
  auto archs = ResolveCudaArchs({"sm_90", "sm_80", "sm_90"});
  ASSERT_TRUE(archs.ok()) << archs.status().message();
  EXPECT_EQ(*archs, (std::vector<std::string>{"sm_80", "sm_90"}));
  EXPECT_THAT(ResolveCudaArchs({"gfx90a"}).status().message(), HasSubstr("--cuda-arch 'gfx90a': not a GPU architecture"));
  EXPECT_THAT(ResolveCudaArchs({"sm_7"}).status().message(), HasSubstr("--cuda-arch 'sm_7'"));
  EXPECT_THAT(ResolveCudaArchs({}).status().message(), HasSubstr("no architecture"));
}

TEST_F(CudaCodegen, KernelSymbolsArePtxNames) {
  EXPECT_EQ(CudaKernelSymbol("fusion.add-1"), "fusion$2eadd$2d1");
  EXPECT_EQ(CudaKernelSymbol("plain_name9"), "plain_name9");
  EXPECT_NE(CudaKernelSymbol("a.b"), CudaKernelSymbol("a$2eb"));
}

// Without the toolkit: math that needs libdevice is a clear error, and without ptxas the
// artifact carries PTX only, with a warning.
TEST_F(CudaCodegen, WithoutTheToolkit) {
  auto module = testing::ParseOrDie(R"(HloModule m
ENTRY e {
  x = f32[8,16] parameter(0)
  l = f32[8,16] log(x)
  ROOT y = f32[8,16] multiply(l, x)
})");
  ASSERT_NE(module, nullptr);
  std::vector<LoopFusion> fusions = FindLoopFusions(*module->entry);
  auto none = CompileCudaKernels(fusions, {}, CudaToolkit{});
  EXPECT_THAT(none.status().message(), HasSubstr("CUDA kernels calling logf need the CUDA Toolkit's libdevice"));

  CudaToolkit toolkit = FindCudaToolkit();
  if (toolkit.libdevice.empty()) GTEST_SKIP() << "no CUDA Toolkit (libdevice) here";
  toolkit.ptxas.clear();
  auto ptx_only = CompileCudaKernels(fusions, {}, toolkit);
  ASSERT_TRUE(ptx_only.ok()) << ptx_only.status().message();
  EXPECT_TRUE(ptx_only->cubins.empty());
  ASSERT_EQ(ptx_only->warnings.size(), 1u);
  EXPECT_THAT(ptx_only->warnings[0], HasSubstr("no ptxas"));
  EXPECT_THAT(ptx_only->ptx, HasSubstr(".entry " + CudaKernelSymbol(fusions[0].name)));
  EXPECT_THAT(ptx_only->ptx, ::testing::Not(HasSubstr("__nv_logf")));  // inlined and gone
}

TEST_F(CudaCodegen, SameInputSameBytesAndBadTargetsAreErrors) {
  if (FindCudaToolkit().libdevice.empty()) GTEST_SKIP() << "no CUDA Toolkit (libdevice) here";
  const std::string input = testing::TestdataPath("layernorm.hlo");
  ASSERT_TRUE(Compile(CudaOptions(input, Out("a.pjit"))).ok());
  ASSERT_TRUE(Compile(CudaOptions(input, Out("b.pjit"))).ok());
  EXPECT_EQ(*ReadFileToString(Out("a.pjit")), *ReadFileToString(Out("b.pjit")));

  CompileOptions bad = CudaOptions(input, Out("c.pjit"));
  bad.targets = {"cpu", "tpu"};
  EXPECT_THAT(Compile(bad).status().message(), HasSubstr("--target 'tpu': not a target pjit compiles for (cpu, cuda)"));
  bad.targets = {"cuda"};
  bad.cuda_archs = {"sm_80", "compute_90"};
  EXPECT_THAT(Compile(bad).status().message(), HasSubstr("--cuda-arch 'compute_90'"));
  EXPECT_FALSE(std::filesystem::exists(Out("c.pjit")));
}

}  // namespace
}  // namespace pjit
