// Replays the fuzzer's committed corpus (seeds and regression inputs) through the same body
// as the libFuzzer target; under the asan preset this is the sanitizer check of each one.
#include <gtest/gtest.h>

#include <filesystem>

#include "format/file_util.h"
#include "tests/fuzz/artifact_reader_fuzz.h"

namespace pjit {
namespace {

TEST(ArtifactFuzzCorpus, ReplaysWithoutCrashing) {
  int replayed = 0;
  for (const auto& e : std::filesystem::directory_iterator(PJIT_FUZZ_CORPUS_DIR)) {
    auto bytes = ReadFileToString(e.path().string());
    ASSERT_TRUE(bytes.ok());
    FuzzArtifactReader(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
    ++replayed;
  }
  EXPECT_GE(replayed, 25);
}

}  // namespace
}  // namespace pjit
