// The cuda platform. Without the NVIDIA driver or a GPU (CI, most machines here), creating a
// client fails with a clear "no CUDA device" (kUnavailable) and the GPU checks skip with that
// message. On a GPU: every testdata module, compiled for cpu and cuda, runs on the GPUs for
// each mesh that fits (1 device, then 2 and 2x2 where there are that many GPUs) and matches
// the numpy-computed goldens — loop kernels from the cubin or PTX, gemms on cuBLAS,
// collectives on NCCL, the rest through the interpreter on the host.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "compile/pipeline.h"
#include "format/file_util.h"
#include "format/npy.h"
#include "run/session.h"
#include "tests/mesh_configs.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

using ::testing::HasSubstr;

std::string Compiled(const std::string& name, const testing::MeshConfig& config, const Module& module, const TemporaryDirectory& dir) {
  CompileOptions options;
  options.input = testing::TestdataPath(name + ".hlo");
  options.output = dir.Path(name + ".pjit");
  options.targets = {"cpu", "cuda"};
  testing::SetMeshAndShardings(module, config, options);
  auto report = Compile(options);
  EXPECT_TRUE(report.ok()) << report.status().message();
  return options.output;
}

TEST(CudaPlatform, RunsEveryTestdataModuleOrSaysThereIsNoGpu) {
  auto dir = TemporaryDirectory::Create("cuda-runtime-test");
  ASSERT_TRUE(dir.ok()) << dir.status().message();
  int ran = 0;
  std::string unavailable;
  for (const std::string& name : testing::TestdataModules()) {
    SCOPED_TRACE(name);
    auto module = testing::ParseOrDie(*ReadFileToString(testing::TestdataPath(name + ".hlo")));
    ASSERT_NE(module, nullptr);
    std::vector<Literal> inputs = testing::ReadTestdataInputs(name, module->entry->parameters.size());
    ASSERT_EQ(inputs.size(), module->entry->parameters.size());
    for (const testing::MeshConfig& c : std::vector<testing::MeshConfig>{{"", {}}, {"x=2", {"x"}}, {"data=2,model=2", {"data", "model"}}}) {
      std::string artifact = Compiled(name, c, *module, *dir);
      SessionOptions so;
      so.platform = "cuda";
      auto session = Session::Open(artifact, so);
      if (!session.ok() && session.status().code() == StatusCode::kUnavailable) {
        unavailable = session.status().message();
        break;  // no (more) GPUs for this mesh or any larger
      }
      ASSERT_TRUE(session.ok()) << c.mesh << ": " << session.status().message();
      auto outputs = (*session)->Run(inputs);
      ASSERT_TRUE(outputs.ok()) << c.mesh << ": " << outputs.status().message();
      ++ran;
      for (size_t o = 0; o < outputs->size(); ++o) {
        auto want = ReadNpy(testing::TestdataPath(name + ".out" + std::to_string(o) + ".npy"));
        ASSERT_TRUE(want.ok()) << want.status().message();
        DType t = want->shape().dtype;
        bool low = t == DType::kF16 || t == DType::kBF16;
        EXPECT_TRUE(testing::AllClose((*outputs)[o], *want, low ? 2e-2 : 1e-4, low ? 2e-2 : 1e-5)) << "mesh " << c.mesh << ", output " << o;
      }
    }
    if (ran == 0) break;  // no GPU at all: one module tells
  }
  if (ran == 0) {
    EXPECT_THAT(unavailable, HasSubstr("no CUDA device"));
    GTEST_SKIP() << unavailable;
  }
  std::printf("cuda: %d module/mesh runs matched the goldens\n", ran);
}

}  // namespace
}  // namespace pjit
