#include "format/npy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "format/file_util.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("pjit_npy_test_" + name)).string();
}

// numpy wrote these files; reading them and writing them back must give numpy's exact bytes.
TEST(Npy, ReadsAndRewritesNumpyFilesByteForByte) {
  int checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(PJIT_TESTDATA_DIR)) {
    if (e.path().extension() != ".npy") continue;
    auto bytes = ReadFileToString(e.path().string());
    ASSERT_TRUE(bytes.ok());
    auto array = ParseNpy(*bytes, e.path().string());
    ASSERT_TRUE(array.ok()) << array.status().message();
    EXPECT_EQ(SerializeNpy(*array), *bytes) << e.path();
    ++checked;
  }
  EXPECT_GT(checked, 50);
}

TEST(Npy, KnownFiles) {
  auto ids = ReadNpy(testing::TestdataPath("embedding_lookup.in1.npy"));
  ASSERT_TRUE(ids.ok()) << ids.status().message();
  EXPECT_EQ(ids->shape().ToString(false), "s32[4,7]");
  auto bf = ReadNpy(testing::TestdataPath("mlp_bf16.in0.npy"));
  ASSERT_TRUE(bf.ok()) << bf.status().message();
  EXPECT_EQ(bf->shape().ToString(false), "bf16[8,32]");
  auto pred = ReadNpy(testing::TestdataPath("conditional.in0.npy"));
  ASSERT_TRUE(pred.ok()) << pred.status().message();
  EXPECT_EQ(pred->shape().ToString(false), "pred[]");
  EXPECT_TRUE(pred->Get<bool>(0));
}

TEST(Npy, RoundTripsEveryDtype) {
  for (DType t : {DType::kPred, DType::kS8, DType::kS16, DType::kS32, DType::kS64, DType::kU8, DType::kU16,
                  DType::kU32, DType::kU64, DType::kF16, DType::kBF16, DType::kF32, DType::kF64}) {
    Literal a(Shape::Array(t, {2, 3}));
    for (int64_t i = 0; i < 6; ++i) a.SetFromDouble(i, t == DType::kPred ? i % 2 : i + 1);
    std::string path = TempPath(std::string(DTypeName(t)) + ".npy");
    ASSERT_TRUE(WriteNpy(path, a).ok());
    auto b = ReadNpy(path);
    ASSERT_TRUE(b.ok()) << b.status().message();
    EXPECT_TRUE(a == *b) << DTypeName(t);
    std::filesystem::remove(path);
  }
}

TEST(Npy, NpzRoundTrip) {
  Literal a(Shape::Array(DType::kF32, {3}));
  Literal b(Shape::Array(DType::kS64, {2, 2}));
  for (int i = 0; i < 3; ++i) a.SetFromDouble(i, i * 0.5);
  for (int i = 0; i < 4; ++i) b.SetFromDouble(i, -i);
  std::string path = TempPath("pair.npz");
  ASSERT_TRUE(WriteNpz(path, {{"x", a}, {"y", b}}).ok());
  auto read = ReadNpz(path);
  ASSERT_TRUE(read.ok()) << read.status().message();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].first, "x");
  EXPECT_TRUE((*read)[0].second == a);
  EXPECT_EQ((*read)[1].first, "y");
  EXPECT_TRUE((*read)[1].second == b);
  std::filesystem::remove(path);
}

std::string Header(const std::string& dict) {
  std::string h = dict;
  while ((10 + h.size() + 1) % 64) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY\x01";
  out += '\0';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h;
}

TEST(Npy, ClearErrors) {
  struct Case {
    std::string bytes;
    const char* message;
  } cases[] = {
      {"not numpy", "not a .npy file"},
      {Header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }") + std::string(16, '\0'), "Fortran-order arrays are not supported"},
      {Header("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }") + std::string(8, '\0'), "big-endian arrays"},
      {Header("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }") + std::string(16, '\0'), "unsupported dtype '<c8'"},
      {Header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }") + std::string(8, '\0'), "holds 8 data bytes, f32[3] needs 12"},
      {Header("{'descr': '|b1', 'fortran_order': False, 'shape': (1,), }") + std::string(1, '\x02'), "bool element 0 is neither 0 nor 1"},
      {Header("{'fortran_order': False, 'shape': (1,), }"), "lacks 'descr'"},
  };
  for (const Case& c : cases) {
    auto r = ParseNpy(c.bytes, "x.npy");
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message));
    EXPECT_EQ(r.status().message().rfind("x.npy: ", 0), 0u) << r.status().message();
  }
}

TEST(FileUtil, AtomicWriteLeavesNoTempFiles) {
  std::string dir = TempPath("atomic");
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(WriteFileAtomically(dir + "/f", "hello").ok());
  EXPECT_EQ(*ReadFileToString(dir + "/f"), "hello");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
  EXPECT_FALSE(WriteFileAtomically(dir + "/missing/f", "x").ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pjit
