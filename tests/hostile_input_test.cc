// The tools under hostile input (issue 22): each case reproduces what once crashed, hung,
// lost data or let in code, and checks for one clear line instead.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "format/content_hash.h"
#include "format/file_util.h"
#include "format/npy.h"
#include "tests/test_util.h"
#include "tests/tool_runner.h"

namespace pjit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Result;
using testing::Tool;

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pjit_hostile_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    artifact_ = (dir_ / "mlp.pjit").string();
    Result c = Tool("pjit-compile " + testing::TestdataPath("mlp.hlo") + " -o " + artifact_);
    ASSERT_EQ(c.exit_code, 0) << c.output;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& bytes) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  fs::path dir_;
  std::string artifact_;
};

// An address-space cap of 2 GiB: allocating what a header merely declares would abort.
constexpr const char* kCapped = "ulimit -v 2097152;";

std::string NpyWithHeader(const std::string& dict, size_t data_bytes) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY\x01";
  out += '\0';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + std::string(data_bytes, '\0');
}

// A header declares far more than the file holds: refused before anything is allocated
// (under a 2 GiB address-space limit, allocating first would abort).
TEST_F(HostileInputTest, NpyHeadersAreCheckedAgainstTheFileBeforeAllocating) {
  struct Case {
    const char* shape;
    const char* message;
  } cases[] = {
      {"(100000000000, 32)", "holds 64 data bytes, f32[100000000000,32] needs 12800000000000"},
      {"(100000000, 8)", "holds 64 data bytes, f32[100000000,8] needs 3200000000"},
      {"(99999999999999999999999999, 2)", "holds more than 2^64 bytes; the file holds 64"},
      {"(4294967296, 4294967296, 4)", "holds more than 2^64 bytes"},
  };
  for (const Case& c : cases) {
    std::string npy = Write("big.npy", NpyWithHeader(std::string("{'descr': '<f4', 'fortran_order': False, 'shape': ") + c.shape + ", }", 64));
    Result r = Tool("pjit-run " + artifact_ + " -i 0=" + npy +
                    " -i 1=@random -i 2=@random -o " + (dir_ / "out").string(), kCapped);
    EXPECT_EQ(r.exit_code, 1) << c.shape << ": " << r.output;
    EXPECT_THAT(r.output, HasSubstr(c.message)) << c.shape;
  }
  // The same for --expected-output, and for a literal on the command line.
  std::string npy = Write("big.npy", NpyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000, 8), }", 64));
  Result expected = Tool("pjit-run " + artifact_ +
                         " -i @random -i @random -i @random --expected-output 0=" + npy + " -o " + (dir_ / "out").string(), kCapped);
  EXPECT_EQ(expected.exit_code, 1) << expected.output;
  EXPECT_THAT(expected.output, HasSubstr("f32[100000000,8] needs 3200000000"));
  Result literal = Tool("pjit-run " + artifact_ +
                        " -i 0=100000000000x32xf32=1 -i @random -i @random -o " + (dir_ / "out").string(), kCapped);
  EXPECT_EQ(literal.exit_code, 1) << literal.output;
  EXPECT_THAT(literal.output, HasSubstr("'100000000000x32xf32': a literal of more than 1024 MiB; give a .npy file"));
}

TEST(HostileNpy, HeaderErrorsAreOneCleanLine) {
  auto fortran = ParseNpy(NpyWithHeader("{'descr': '<f4', 'fortran_order': __import__('os'), 'shape': (2,), }", 8), "x.npy");
  ASSERT_FALSE(fortran.ok());
  EXPECT_THAT(fortran.status().message(), HasSubstr("fortran_order is '__import__('os')', not True or False"));
  auto shape = ParseNpy(NpyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': [2\n], }", 8), "x.npy");
  ASSERT_FALSE(shape.ok());
  EXPECT_THAT(shape.status().message(), HasSubstr("malformed shape '[2\\x0a]'"));
  EXPECT_THAT(shape.status().message(), Not(HasSubstr("\n")));
  EXPECT_THAT(shape.status().message(), Not(HasSubstr("  ")));  // no padding
}

// A .npz whose central directory points a member's local header past the end of the file
// (an offset that wraps when 30 is added in 32 bits).
TEST_F(HostileInputTest, NpzWithABogusLocalHeaderOffset) {
  auto good = WriteNpz((dir_ / "good.npz").string(), {{"arr_0", Literal(Shape::Array(DType::kF32, {2}))}});
  ASSERT_TRUE(good.ok());
  std::string z = *ReadFileToString((dir_ / "good.npz").string());
  size_t dir = z.find("PK\x01\x02");
  ASSERT_NE(dir, std::string::npos);
  for (uint32_t offset : {0xfffffff0u, 0x7fffffffu}) {
    for (int i = 0; i < 4; ++i) z[dir + 42 + i] = static_cast<char>((offset >> (8 * i)) & 0xff);
    std::string path = Write("bad.npz", z);
    auto r = ReadNpz(path);
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr("corrupt zip entry 'arr_0.npy'"));
    Result run = Tool("pjit-run " + artifact_ + " -i " + path + " -o " + (dir_ / "out").string());
    EXPECT_EQ(run.exit_code, 1) << run.output;
    EXPECT_THAT(run.output, HasSubstr("corrupt zip entry"));
  }
}

// Devices, directories and the input itself are refused by name; nothing reads /dev/zero.
TEST_F(HostileInputTest, NonRegularFilesAreRefused) {
  Result hlo = Tool("pjit-compile /dev/zero -o " + (dir_ / "z.pjit").string());
  EXPECT_EQ(hlo.exit_code, 1);
  EXPECT_THAT(hlo.output, HasSubstr("'/dev/zero' is not a regular file"));
  Result npy = Tool("pjit-run " + artifact_ + " -i 0=/dev/zero -i @random -i @random -o " + (dir_ / "out").string());
  EXPECT_EQ(npy.exit_code, 1);
  EXPECT_THAT(npy.output, HasSubstr("'/dev/zero' is not a regular file"));
  Result artifact = Tool("pjit-inspect /dev/zero");
  EXPECT_EQ(artifact.exit_code, 1);
  EXPECT_THAT(artifact.output, HasSubstr("'/dev/zero' is not a regular file"));
  Result directory = Tool("pjit-run " + artifact_ + " -i 0=" + dir_.string() + " -i @random -i @random -o " + (dir_ / "out").string());
  EXPECT_EQ(directory.exit_code, 1);
  EXPECT_THAT(directory.output, HasSubstr("is a directory, not a file"));
}

TEST_F(HostileInputTest, TheCompilerNeverWritesOverItsInput) {
  std::string hlo = (dir_ / "m.hlo").string();
  fs::copy_file(testing::TestdataPath("mlp.hlo"), hlo);
  const std::string before = *ReadFileToString(hlo);
  fs::create_symlink(hlo, dir_ / "link.hlo");
  for (const std::string& out : {hlo, (dir_ / "link.hlo").string(), (dir_ / "." / "m.hlo").string()}) {
    Result r = Tool("pjit-compile " + hlo + " -o " + out);
    EXPECT_EQ(r.exit_code, 1) << out << ": " << r.output;
    EXPECT_THAT(r.output, HasSubstr(": is the input; the artifact would replace the HLO module")) << out;
  }
  EXPECT_EQ(*ReadFileToString(hlo), before);
  Result extract = Tool("pjit-inspect --extract x86_64 -o " + artifact_ + " " + artifact_);
  EXPECT_EQ(extract.exit_code, 1) << extract.output;
  EXPECT_THAT(extract.output, HasSubstr("is the artifact being inspected"));
}

// Outputs honour the umask, and a file replaced keeps its mode.
TEST_F(HostileInputTest, OutputsHonourTheUmask) {
  std::string out = (dir_ / "private.pjit").string();
  Result c = Tool("pjit-compile " + testing::TestdataPath("mlp.hlo") + " -o " + out, "umask 077;");
  ASSERT_EQ(c.exit_code, 0) << c.output;
  struct stat st;
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result r = Tool("pjit-run " + artifact_ +
                  " -i @random -i @random -i @random -o " + (dir_ / "out").string(), "umask 027;");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(::stat((dir_ / "out" / "out0.npy").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  ::chmod(artifact_.c_str(), 0600);
  Result again = Tool("pjit-compile " + testing::TestdataPath("mlp.hlo") + " -o " + artifact_, "umask 022;");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  ASSERT_EQ(::stat(artifact_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(HostileInputTest, UnboundedWaitsAndZeroDevicesAreRefused) {
  for (const char* timeout : {"0", "-1"}) {
    Result r = Tool("pjit-run " + artifact_ + " -i @random -i @random -i @random -o " + (dir_ / "out").string() + " --timeout-ms " + timeout);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_THAT(r.output, HasSubstr(std::string("--timeout-ms ") + timeout + ": must be at least 1"));
  }
  Result devices = Tool("pjit-run " + artifact_ + " -i @random -i @random -i @random -o " + (dir_ / "out").string() + " --devices 0");
  EXPECT_EQ(devices.exit_code, 2) << devices.output;
  EXPECT_THAT(devices.output, HasSubstr("--devices"));
}

// One stray device id does not make a mesh of a million devices; a mesh that large, asked
// for, opens in time linear in its devices (it took about their square: 30k 0.15 s, 100k 1.7 s).
TEST_F(HostileInputTest, DeviceIdsOutsideTheImpliedMeshAndHugeMeshes) {
  std::string hlo = Write("maximal.hlo",
                          "HloModule m\n\nENTRY main {\n  x = f32[4] parameter(0), sharding={maximal device=1000000}\n"
                          "  ROOT y = f32[4] add(x, x)\n}\n");
  Result implied = Tool("pjit-compile " + hlo + " -o " + (dir_ / "m.pjit").string());
  EXPECT_EQ(implied.exit_code, 1) << implied.output;
  EXPECT_THAT(implied.output, HasSubstr(hlo + ":4:3: x: sharding puts the array on device 1000000 of 1"));
  EXPECT_FALSE(fs::exists(dir_ / "m.pjit"));
  Result partitions = Tool("pjit-compile " + Write("p.hlo", "HloModule m, num_partitions=2000000\n\nENTRY e {\n  ROOT x = f32[4] parameter(0)\n}\n") +
                           " -o " + (dir_ / "m.pjit").string());
  EXPECT_EQ(partitions.exit_code, 1);
  EXPECT_THAT(partitions.output, HasSubstr("p.hlo:1:14: num_partitions 2000000 is more than 2^20 devices"));
  Result huge = Tool("pjit-compile " + hlo + " --mesh x=1048576 -o " + (dir_ / "huge.pjit").string());
  ASSERT_EQ(huge.exit_code, 0) << huge.output;
  Result opened = Tool("pjit-inspect " + (dir_ / "huge.pjit").string() + " > /dev/null");
  EXPECT_EQ(opened.exit_code, 0) << opened.output;
}

// `n` whiles, each in the body of the one before; the innermost adds 1 once, and each level
// adds 1 to what its loop returns, so x = 0 gives n.
std::string NestedWhiles(int n) {
  std::string text = "HloModule nest\n\ncond {\n  p = s32[] parameter(0)\n  one = s32[] constant(1)\n"
                     "  ROOT lt = pred[] compare(p, one), direction=LT\n}\n\n";
  text += StrCat("body", n - 1, " {\n  p = s32[] parameter(0)\n  one = s32[] constant(1)\n  ROOT a = s32[] add(p, one)\n}\n\n");
  for (int k = n - 2; k >= 0; --k)
    text += StrCat("body", k, " {\n  p = s32[] parameter(0)\n  w = s32[] while(p), condition=cond, body=body", k + 1,
                   "\n  one = s32[] constant(1)\n  ROOT a = s32[] add(w, one)\n}\n\n");
  return text + "ENTRY e {\n  x = s32[] parameter(0)\n  ROOT w = s32[] while(x), condition=cond, body=body0\n}\n";
}

// One limit on nested control flow, and the compiler refuses first: what it writes, the
// runtime reads.
TEST_F(HostileInputTest, NestedControlFlowWithinTheLimitRunsBeyondItIsRefused) {
  std::string pjit = (dir_ / "nest.pjit").string();
  Result deepest = Tool("pjit-compile " + Write("nest64.hlo", NestedWhiles(64)) + " -o " + pjit);
  ASSERT_EQ(deepest.exit_code, 0) << deepest.output;
  Result run = Tool("pjit-run " + pjit + " -i 0=s32=0 -o " + (dir_ / "nest").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto out = ReadNpy((dir_ / "nest" / "out0.npy").string());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->Get<int32_t>(0), 64);
  for (int n : {65, 200}) {
    std::string hlo = Write("nest.hlo", NestedWhiles(n));
    fs::remove(pjit);
    Result deeper = Tool("pjit-compile " + hlo + " -o " + pjit);
    EXPECT_EQ(deeper.exit_code, 1) << deeper.output;
    EXPECT_THAT(deeper.output, HasSubstr("whiles and conditionals nest more than 64 deep"));
    EXPECT_THAT(deeper.output, HasSubstr(hlo + ":"));
    EXPECT_FALSE(fs::exists(pjit));
  }
}

// A file name or metadata string with terminal controls in it prints as visible escapes in
// every view; colours the grid draws itself still pass.
TEST_F(HostileInputTest, InspectEscapesWhatItPrints) {
  std::string hlo = (dir_ / "evil\x1b]0;pwned\x07.hlo").string();
  std::ofstream(hlo) << "HloModule m, num_partitions=2\n\nENTRY main {\n"
                        "  x = f32[4,8] parameter(0), sharding={devices=[2,1]<=[2]}, metadata={op_name=\"\\033[2Jwiped\"}\n"
                        "  ROOT y = f32[4,8] add(x, x), metadata={op_name=\"\\033[2Jwiped\"}\n}\n";
  std::string pjit = (dir_ / "evil.pjit").string();
  Result c = Tool("pjit-compile '" + hlo + "' -o " + pjit);
  ASSERT_EQ(c.exit_code, 0) << c.output;
  for (const char* view : {"", "--explain y", "--explain x", "--global", "--shardings --color always", "--binaries", "--memory"}) {
    Result r = Tool(std::string("pjit-inspect ") + view + " " + pjit);
    EXPECT_EQ(r.exit_code, 0) << view << ": " << r.output;
    EXPECT_THAT(r.output, Not(HasSubstr("\x1b]"))) << view;
    EXPECT_THAT(r.output, Not(HasSubstr("\x1b[2J"))) << view;
    EXPECT_THAT(r.output, Not(HasSubstr("\x07"))) << view;
  }
  EXPECT_THAT(Tool("pjit-inspect " + pjit).output, HasSubstr("evil\\x1b]0;pwned\\x07.hlo"));
  EXPECT_THAT(Tool("pjit-inspect --explain x " + pjit).output, HasSubstr("\\x1b[2Jwiped"));
  EXPECT_THAT(Tool("pjit-inspect --shardings --color always " + pjit).output, HasSubstr("\x1b[38;5;16;48;5;"));
  Result hlo_summary = Tool("pjit-inspect '" + hlo + "'");
  EXPECT_EQ(hlo_summary.exit_code, 0) << hlo_summary.output;
  EXPECT_THAT(hlo_summary.output, Not(HasSubstr("\x1b]")));
  Result error = Tool("pjit-inspect --explain 'no\x1b[2Jsuch' " + pjit);
  EXPECT_EQ(error.exit_code, 1);
  EXPECT_THAT(error.output, Not(HasSubstr("\x1b[2J")));
}

// An output set is complete only with its manifest, written last and listing every file with
// its size and hash; a run that fails midway leaves none, even where an older one stood.
TEST_F(HostileInputTest, OutputSetsAreWrittenAsAUnit) {
  std::string pjit = (dir_ / "sharded.pjit").string(), out = (dir_ / "set").string();
  Result c = Tool("pjit-compile " + testing::TestdataPath("mlp.hlo") + " --mesh data=2,model=2 --in-sharding 0=data,_ -o " + pjit);
  ASSERT_EQ(c.exit_code, 0) << c.output;
  const std::string run = "pjit-run " + pjit + " -i @random -i @random -i @random --keep-sharded -o " + out;
  ASSERT_EQ(Tool(run).exit_code, 0);
  std::string manifest = *ReadFileToString(out + "/pjit-outputs.txt");
  for (int d = 0; d < 4; ++d) {
    std::string file = "out0.device" + std::to_string(d) + ".npy";
    std::string bytes = *ReadFileToString(out + "/" + file);
    char hash[24];
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(ContentHash(bytes)));
    EXPECT_THAT(manifest, HasSubstr(file + " " + std::to_string(bytes.size()) + " " + hash + "\n"));
  }
  // Device 2's file cannot be replaced: the run fails after writing devices 0 and 1.
  fs::remove(out + "/out0.device2.npy");
  fs::create_directories(out + "/out0.device2.npy/x");
  Result failed = Tool(run + " --seed 7");
  EXPECT_EQ(failed.exit_code, 1) << failed.output;
  EXPECT_THAT(failed.output, HasSubstr("out0.device2.npy"));
  EXPECT_FALSE(fs::exists(out + "/pjit-outputs.txt"));
  for (const auto& e : fs::directory_iterator(out)) EXPECT_THAT(e.path().string(), Not(HasSubstr(".tmp."))) << "a temporary file stayed";
}

// SIGTERM or SIGINT while an output is being written removes its temporary file.
TEST(HostileSignals, AnInterruptedWriteLeavesNoTemporaryFile) {
  fs::path dir = fs::temp_directory_path() / ("pjit_signal_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const size_t size = size_t{1} << 29;  // long enough to be caught writing
  void* zeros = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(zeros, MAP_FAILED);
  for (int sig : {SIGTERM, SIGINT}) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      Status s = WriteFileAtomically((dir / "big.npy").string(), std::string_view(static_cast<const char*>(zeros), size));
      _exit(s.ok() ? 0 : 1);
    }
    bool writing = false;
    for (int i = 0; i < 20000 && !writing; ++i) {
      for (const auto& e : fs::directory_iterator(dir)) writing |= e.path().filename().string().find(".tmp.") != std::string::npos;
      if (!writing) usleep(100);
    }
    kill(child, sig);
    int status = 0;
    waitpid(child, &status, 0);
    if (!writing || !WIFSIGNALED(status)) {
      GTEST_SKIP() << "the write finished before the signal came";
    }
    EXPECT_EQ(WTERMSIG(status), sig);
    for (const auto& e : fs::directory_iterator(dir)) ADD_FAILURE() << "left behind: " << e.path();
  }
  munmap(zeros, size);
  fs::remove_all(dir);
}

// Writing outputs holds each about once: a 256 MiB output peaked near 4x its size (device
// arena, downloaded shard, assembled copy, serialised copy), now arena and one copy.
TEST_F(HostileInputTest, OutputsAreWrittenWithoutWholeCopies) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "sanitizers keep freed memory in quarantine";
#endif
  std::string hlo = Write("big.hlo", "HloModule big\n\nENTRY e {\n  x = f32[] parameter(0)\n"
                                      "  ROOT b = f32[8192,8192] broadcast(x), dimensions={}\n}\n");
  std::string pjit = (dir_ / "big.pjit").string(), out = (dir_ / "big").string();
  ASSERT_EQ(Tool("pjit-compile " + hlo + " -o " + pjit).exit_code, 0);
  std::string tool = std::string(PJIT_TOOLS_DIR) + "/pjit-run";
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    execl(tool.c_str(), tool.c_str(), pjit.c_str(), "-i", "0=f32=1", "-o", out.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  ASSERT_EQ(wait4(child, &status, 0, &usage), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(fs::file_size(out + "/out0.npy"), (size_t{256} << 20) + 128);
  const long mib = usage.ru_maxrss / 1024;  // ru_maxrss is in KiB
  EXPECT_LT(mib, 640) << "peak resident MiB for a 256 MiB output";
}

// `n` computations, each calling the next; the last adds its parameter to itself.
std::string NestedCalls(int n) {
  std::string text = StrCat("HloModule calls\n\nc", n - 1, " {\n  p = f32[4] parameter(0)\n  ROOT a = f32[4] add(p, p)\n}\n\n");
  for (int k = n - 2; k >= 0; --k)
    text += StrCat("c", k, " {\n  p = f32[4] parameter(0)\n  ROOT r = f32[4] call(p), to_apply=c", k + 1, "\n}\n\n");
  return text + "ENTRY e {\n  x = f32[4] parameter(0)\n  ROOT r = f32[4] call(x), to_apply=c0\n}\n";
}

TEST_F(HostileInputTest, CallsNestedTooDeepAreALocatedErrorAtOnce) {
  std::string pjit = (dir_ / "calls.pjit").string();
  Result deepest = Tool("pjit-compile " + Write("calls64.hlo", NestedCalls(64)) + " -o " + pjit);
  EXPECT_EQ(deepest.exit_code, 0) << deepest.output;
  std::string hlo = Write("calls.hlo", NestedCalls(20'000));  // parsed in linear time, without recursion
  Result deeper = Tool("pjit-compile " + hlo + " -o " + pjit);
  EXPECT_EQ(deeper.exit_code, 1);
  EXPECT_THAT(deeper.output, HasSubstr(hlo + ":99685:3: c64: calls nested more than 64 deep"));
}

TEST_F(HostileInputTest, SmallerOnes) {
  // A byte order mark before the module.
  std::string bom = Write("bom.hlo", "\xEF\xBB\xBF" + *ReadFileToString(testing::TestdataPath("mlp.hlo")));
  Result b = Tool("pjit-compile " + bom + " -o " + (dir_ / "bom.pjit").string());
  EXPECT_EQ(b.exit_code, 0) << b.output;
  // One parameter sharded twice on the command line, and an index past any integer.
  std::string mlp = testing::TestdataPath("mlp.hlo");
  Result twice = Tool("pjit-compile " + mlp + " --mesh x=2 --in-sharding 0=x,_ --in-sharding 0=_,x -o " + (dir_ / "t.pjit").string());
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_THAT(twice.output, HasSubstr("--in-sharding 0=_,x: Arg_0.1 is given a sharding twice (also by --in-sharding 0=x,_)"));
  Result huge = Tool("pjit-compile " + mlp + " --in-sharding 99999999999999999999999=_ -o " + (dir_ / "t.pjit").string());
  EXPECT_EQ(huge.exit_code, 1);
  EXPECT_THAT(huge.output, HasSubstr("has no parameter '99999999999999999999999'"));
  // An unknown CPU is one line of ours, without LLVM's own warnings.
  Result cpu = Tool("pjit-compile " + mlp + " --cpu bogus -o " + (dir_ / "t.pjit").string());
  EXPECT_EQ(cpu.exit_code, 1);
  EXPECT_EQ(cpu.output, "pjit-compile: error: --cpu 'bogus': not a CPU LLVM knows (try native, x86-64, x86-64-v3, x86-64-v4 or a model such as skylake-avx512)\n");
  // A batch manifest quotes paths with spaces.
  fs::create_directories(dir_ / "in put");
  ASSERT_TRUE(WriteNpy((dir_ / "in put" / "x.npy").string(), *ReadNpy(testing::TestdataPath("mlp.in0.npy"))).ok());
  std::string manifest = Write("jobs.txt", "\"" + (dir_ / "out dir").string() + "\" 0=\"" + (dir_ / "in put" / "x.npy").string() +
                                               "\" 1=" + testing::TestdataPath("mlp.in1.npy") + " 2=" + testing::TestdataPath("mlp.in2.npy") + "\n");
  Result batch = Tool("pjit-run " + artifact_ + " --batch " + manifest);
  EXPECT_EQ(batch.exit_code, 0) << batch.output;
  auto got = ReadNpy((dir_ / "out dir" / "out0.npy").string());
  auto want = ReadNpy(testing::TestdataPath("mlp.out0.npy"));
  ASSERT_TRUE(got.ok() && want.ok());
  EXPECT_TRUE(testing::AllClose(*got, *want, 2e-5, 2e-5));
}

// Content hashes are XXH3, which a forger recomputes; a signature is checked before the
// plugin sees the artifact, and a changed producer line (covered by no hash) fails it.
TEST_F(HostileInputTest, SignedArtifactsRunOnlyUnderTheirKey) {
  std::string pjit = (dir_ / "signed.pjit").string(), keys = testing::TestdataPath("signing/");
  Result c = Tool("pjit-compile " + testing::TestdataPath("mlp.hlo") + " --sign " + keys + "key.pem -o " + pjit);
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_THAT(Tool("pjit-inspect " + pjit).output, HasSubstr("signed: ed25519 key "));
  const std::string run = "pjit-run " + pjit + " -i @random -i @random -i @random -o ";
  Result good = Tool(run + (dir_ / "good").string() + " --verify " + keys + "key.pub.pem");
  EXPECT_EQ(good.exit_code, 0) << good.output;
  Result other = Tool(run + (dir_ / "other").string() + " --verify " + keys + "other.pub.pem");
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_THAT(other.output, HasSubstr("signed.pjit: signed by key "));
  EXPECT_FALSE(fs::exists(dir_ / "other"));
  std::string bytes = *ReadFileToString(pjit);
  size_t at = bytes.find("--cpu=x86-64");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 6] = 'X';
  std::string forged = Write("forged.pjit", bytes);
  Result tampered = Tool("pjit-run " + forged + " -i @random -i @random -i @random -o " + (dir_ / "forged").string() + " --verify " + keys + "key.pub.pem");
  EXPECT_EQ(tampered.exit_code, 1);
  EXPECT_THAT(tampered.output, HasSubstr("forged.pjit: the signature does not match the content"));
  Result unsigned_run = Tool("pjit-run " + artifact_ + " -i @random -i @random -i @random -o " + (dir_ / "u").string() + " --verify " + keys + "key.pub.pem");
  EXPECT_EQ(unsigned_run.exit_code, 1);
  EXPECT_THAT(unsigned_run.output, HasSubstr("not signed"));
}

TEST_F(HostileInputTest, ExtractToStandardOutput) {
  Result file = Tool("pjit-inspect --extract x86_64 -o " + (dir_ / "bin.so").string() + " " + artifact_);
  ASSERT_EQ(file.exit_code, 0) << file.output;
  ASSERT_EQ(Tool("pjit-inspect --extract x86_64 -o - " + artifact_ + " > " + (dir_ / "stdout.so").string()).exit_code, 0);
  EXPECT_FALSE(fs::exists("-"));
  EXPECT_TRUE(*ReadFileToString((dir_ / "stdout.so").string()) == *ReadFileToString((dir_ / "bin.so").string()));
}

}  // namespace
}  // namespace pjit
