// Replays the fuzzers' committed corpora (seeds and regression inputs) through the same
// bodies as the libFuzzer targets; under the asan preset this is the sanitizer check of each.
#include <gtest/gtest.h>

#include <filesystem>

#include "format/file_util.h"
#include "tests/fuzz/artifact_reader_fuzz.h"
#include "tests/fuzz/hlo_parser_fuzz.h"

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

TEST(HloParserFuzzCorpus, ReplaysWithoutCrashing) {
  int replayed = 0;
  for (const char* dir : {PJIT_HLO_FUZZ_CORPUS_DIR, PJIT_TESTDATA_DIR}) {
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().extension() != ".hlo") continue;
      auto bytes = ReadFileToString(e.path().string());
      ASSERT_TRUE(bytes.ok());
      FuzzHloParser(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
      ++replayed;
    }
  }
  EXPECT_GE(replayed, 26);
}

}  // namespace
}  // namespace pjit
