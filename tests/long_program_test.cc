// Programs far longer than the testdata (issue 22): no pass may recurse as deep as the
// program is long, and compile time must grow linearly with it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pthread.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>

#include "compile/pipeline.h"
#include "tests/tool_runner.h"

namespace pjit {
namespace {

namespace fs = std::filesystem;

// An elementwise chain of `n` ops over f32[64,64], as one long expression.
std::string WriteChain(const fs::path& dir, int n) {
  static const char* kOps[] = {"add", "multiply", "subtract", "maximum"};
  std::string path = (dir / ("chain" + std::to_string(n) + ".hlo")).string();
  std::ofstream out(path);
  out << "HloModule chain\n\nENTRY main {\n  v0 = f32[64,64] parameter(0)\n  c = f32[64,64] parameter(1)\n";
  for (int i = 1; i <= n; ++i)
    out << (i == n ? "  ROOT v" : "  v") << i << " = f32[64,64] " << kOps[i % 4] << "(v" << i - 1 << ", c)\n";
  out << "}\n";
  return path;
}

// Runs `f` on a thread whose stack is 8 MiB, whatever `ulimit -s` says.
template <typename F>
void OnEightMiBStack(F f) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, size_t{8} << 20);
  pthread_t thread;
  auto run = [](void* arg) -> void* {
    (*static_cast<F*>(arg))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, run, &f), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}

double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

class LongProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pjit_long_program_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Status CompileChain(int n) {
    CompileOptions options;
    options.input = WriteChain(dir_, n);
    options.output = (dir_ / "chain.pjit").string();
    return Compile(options).status();
  }

  fs::path dir_;
};

TEST_F(LongProgramTest, AHundredThousandOpChainCompilesOnAnEightMiBStack) {
  Status status = Internal("not run");
  OnEightMiBStack([&] { status = CompileChain(100'000); });
  EXPECT_TRUE(status.ok()) << status.message();
}

// Compile time on chains of 1k and 10k ops grows about tenfold (it grew a hundredfold while
// a chain was one kernel). CPU time of the whole process, LLVM's threads included.
TEST_F(LongProgramTest, CompileTimeGrowsLinearlyWithTheChain) {
  double start = CpuSeconds();
  ASSERT_TRUE(CompileChain(1'000).ok());
  double small = CpuSeconds() - start;
  start = CpuSeconds();
  ASSERT_TRUE(CompileChain(10'000).ok());
  double large = CpuSeconds() - start;
  EXPECT_LT(large / small, 30) << "1k ops: " << small << " s, 10k ops: " << large << " s";
}

// The split kernels compute what the reference interpreter does, bit for bit.
TEST_F(LongProgramTest, ASplitChainMatchesTheInterpreter) {
  std::string hlo = WriteChain(dir_, 3'000), pjit = (dir_ / "c.pjit").string();
  testing::Result c = testing::Tool("pjit-compile " + hlo + " -o " + pjit);
  ASSERT_EQ(c.exit_code, 0) << c.output;
  for (const char* platform : {"cpu", "interp"}) {
    testing::Result r = testing::Tool("pjit-run " + pjit + " -i @random -i @random --platform " + platform + " -o " + (dir_ / platform).string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  std::ifstream a(dir_ / "cpu" / "out0.npy", std::ios::binary), b(dir_ / "interp" / "out0.npy", std::ios::binary);
  std::string x((std::istreambuf_iterator<char>(a)), {}), y((std::istreambuf_iterator<char>(b)), {});
  EXPECT_FALSE(x.empty());
  EXPECT_TRUE(x == y);
}

}  // namespace
}  // namespace pjit
